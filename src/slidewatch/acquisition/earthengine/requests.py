"""The pure parts of the Earth Engine source: request tiling under ``computePixels``'
limits, request grids, band names, date rules and scene properties. No ``ee`` import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slidewatch.acquisition.offset import date_rule_offset, forced_offset
from slidewatch.acquisition.sources import SceneInfo, pass_id

MAX_REQUEST_BYTES = 48 * 1024 * 1024
"""``computePixels`` refuses answers above 48 MiB (50,331,648 bytes)."""
MAX_GRID_PX = 32768
"""``computePixels`` refuses grids wider or taller than this."""
BYTES_PER_VALUE = 4
"""Every band is requested as float32."""
FILL = -32768.0
"""Value given to masked pixels on the server (``unmask``): no data."""
CLOUD_PROBABILITY = "COPERNICUS/S2_CLOUD_PROBABILITY"
SCENE_PROPERTIES = (
    "system:index",
    "system:time_start",
    "MGRS_TILE",
    "PROCESSING_BASELINE",
    "CLOUDY_PIXEL_PERCENTAGE",
    "GENERATION_TIME",
    "SPACECRAFT_NAME",
    "SENSING_ORBIT_NUMBER",
)
"""Image properties a search reads."""
DEM_BANDS: dict[str, str] = {
    "COPERNICUS/DEM/GLO30": "DEM",
    "USGS/SRTMGL1_003": "elevation",
    "NASA/NASADEM_HGT/001": "elevation",
    "JAXA/ALOS/AW3D30/V3_2": "DSM",
}
"""Elevation band of the known Earth Engine DEMs (others: the first band)."""


def is_harmonized(collection: str) -> bool:
    """Whether an Earth Engine Sentinel-2 collection already removed the 04.00 offset."""
    return "HARMONIZED" in collection.upper()


def gee_band(name: str, overrides: Mapping[str, str] | None = None) -> str:
    """Earth Engine band name of an L4S/extra band: as given in ``overrides`` (the options'
    ``asset_keys``), else the same (``B1``…``B12``, ``B8A`` as Earth Engine names them)."""
    return (overrides or {}).get(name, name)


def request_sizes(length: int, chunk_px: int, side_limit: int) -> tuple[int, ...]:
    """Split ``length`` pixels into pieces of at most ``min(chunk_px, side_limit)``."""
    step = max(1, min(chunk_px, side_limit, MAX_GRID_PX))
    sizes = [step] * (length // step)
    if length % step:
        sizes.append(length % step)
    return tuple(sizes)


def request_chunks(
    height: int, width: int, n_bands: int, chunk_px: int, max_bytes: int = MAX_REQUEST_BYTES
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(row sizes, column sizes) of requests covering a ``height``×``width`` grid with
    ``n_bands`` float32 bands, each request at most ``max_bytes`` and ``chunk_px`` square."""
    side = math.isqrt(max_bytes // (BYTES_PER_VALUE * max(n_bands, 1)))
    if side < 1:
        raise ValueError(f"{n_bands} bands do not fit in one {max_bytes}-byte request")
    return request_sizes(height, chunk_px, side), request_sizes(width, chunk_px, side)


def request_grid(
    crs: str, affine: Any, row: int, col: int, height: int, width: int
) -> dict[str, Any]:
    """The ``grid`` of a ``computePixels`` request for a window of a north-up grid."""
    x0 = affine.c + col * affine.a
    y0 = affine.f + row * affine.e
    return {
        "dimensions": {"width": width, "height": height},
        "affineTransform": {
            "scaleX": affine.a,
            "shearX": 0,
            "translateX": x0,
            "shearY": 0,
            "scaleY": affine.e,
            "translateY": y0,
        },
        "crsCode": crs,
    }


def scene_from_properties(
    props: Mapping[str, Any], collection: str, dn_offset: str = "auto"
) -> SceneInfo:
    """A :class:`SceneInfo` of an Earth Engine image from its properties."""
    when = datetime.fromtimestamp(float(props["system:time_start"]) / 1000, tz=UTC)
    if dn_offset != "auto":
        offset, rule = forced_offset(dn_offset)
    else:
        offset, rule = date_rule_offset(when, is_harmonized(collection))
    cover = props.get("CLOUDY_PIXEL_PERCENTAGE")
    return SceneInfo(
        id=str(props["system:index"]),
        datetime=when,
        tile=str(props.get("MGRS_TILE", "")),
        processing_baseline=str(props.get("PROCESSING_BASELINE", "") or ""),
        cloud_cover=None if cover is None else float(cover),
        dn_offset=offset,
        offset_rule=rule,
        processed=str(props.get("GENERATION_TIME", "") or ""),
        pass_id=pass_id(props.get("SPACECRAFT_NAME"), props.get("SENSING_ORBIT_NUMBER")),
        handle=str(props["system:index"]),
    )


def band_list(
    bands: Sequence[str], overrides: Mapping[str, str] | None = None
) -> tuple[list[str], list[str], bool]:
    """(Earth Engine bands to select, their L4S names, whether the cloud probability is
    wanted)."""
    s2 = [b for b in bands if b != "CLOUDPROB"]
    return [gee_band(b, overrides) for b in s2], s2, "CLOUDPROB" in bands
