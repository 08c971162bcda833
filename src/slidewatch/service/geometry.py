"""Limits on geometries a client sends: vertex count (413 above it) and acquisition's own
checks (validity, the antimeridian, the home's area limit: 413 above it), so a huge AOI is
refused before anything is stored or searched, with the same message ``fetch`` and
``monitor add`` give.
"""

from __future__ import annotations

from typing import Any

from slidewatch.service.problems import PayloadTooLarge


def _vertex_count(geometry: Any) -> int:
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    count = 0
    stack = [coords]
    while stack:  # iterative: a deeply nested list cannot exhaust the recursion limit
        item = stack.pop()
        if isinstance(item, list) and item and not isinstance(item[0], list):
            count += 1
        elif isinstance(item, list):
            stack.extend(item)
    return count


def check_limits(geometry: Any, max_vertices: int, max_area_km2: float) -> None:
    """Raise :class:`PayloadTooLarge` for too many vertices, AreaTooLarge (413) over the area
    limit, AOIError (422) for an invalid or antimeridian-crossing geometry."""
    vertices = _vertex_count(geometry)
    if vertices > max_vertices:
        raise PayloadTooLarge(
            f"geometry has {vertices} vertices, over the limit of {max_vertices}; simplify it"
        )
    from slidewatch.acquisition.aoi import AOI

    AOI.from_geojson(geometry, "geometry", max_area_km2)
