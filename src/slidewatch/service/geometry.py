"""Limits on geometries a client sends: vertex count and geodesic area (413 above them).

Validity (a non-empty, valid lon/lat polygon) is the monitoring registry's check; this module
adds the service's limits so a huge AOI is refused before anything is stored or searched.
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
    """Raise :class:`PayloadTooLarge` for too many vertices or too large a geodesic area."""
    vertices = _vertex_count(geometry)
    if vertices > max_vertices:
        raise PayloadTooLarge(
            f"geometry has {vertices} vertices, over the limit of {max_vertices}; simplify it"
        )
    from pyproj import Geod
    from shapely.geometry import shape

    try:
        geom = shape(geometry)
        area_m2, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    except Exception:  # malformed: the registry's validity check names the problem
        return
    if abs(area_m2) / 1e6 > max_area_km2:
        raise PayloadTooLarge(
            f"geometry covers {abs(area_m2) / 1e6:.0f} km², over the limit of {max_area_km2:.0f} "
            "km²; split it into several AOIs"
        )
