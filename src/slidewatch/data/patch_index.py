"""The grid of patch windows over a scene, and the index of the patches built from it.

The L4S benchmark ships no coordinates; ``index.geojson`` (RFC 7946: geometry in lon/lat,
plus the bounds in the scene's CRS as properties) and ``index.csv`` let built patches be
split by region later. Both are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine

from slidewatch.atomic import write_text_atomic
from slidewatch.errors import ConfigError

INDEX_GEOJSON = "index.geojson"
INDEX_CSV = "index.csv"
PRE_DIR = "pre"
"""Beside ``img/``: the same window before the event (``monitor export-reviews`` writes it;
the labeling page shows it beside the patch). Not a patch of the dataset."""


def pre_image_path(image: Path) -> Path:
    """Where the pre-event image of patch image ``DIR/img/NAME.h5`` is: ``DIR/pre/NAME.h5``."""
    return Path(image).parent.parent / PRE_DIR / Path(image).name


@dataclass(frozen=True)
class PatchRecord:
    """One written patch, as listed in the index."""

    id: str
    """Image file stem, e.g. ``image_12`` (its mask is ``mask_12``)."""
    row_off: int
    """Row of the patch's top-left pixel in the scene (or mosaic) grid."""
    col_off: int
    """Column of the patch's top-left pixel in the scene grid."""
    bounds: tuple[float, float, float, float]
    """``(minx, miny, maxx, maxy)`` in the scene's CRS."""
    lonlat_bounds: tuple[float, float, float, float]
    """``(west, south, east, north)`` in EPSG:4326."""
    valid_fraction: float
    """Fraction of the patch's pixels inside the scene and not nodata/NaN."""
    landslide_pixels: int | None
    """Landslide pixels in the mask, or None without labels."""


def patch_bounds(
    transform: Affine, crs: CRS, rows: np.ndarray, cols: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (N×4, scene CRS) and lon/lat bounds (N×4) of ``size`` patches at ``rows, cols``."""
    from rasterio.warp import transform as transform_points

    corner_r = np.stack([rows, rows, rows + size, rows + size], axis=1).astype("float64")
    corner_c = np.stack([cols, cols + size, cols + size, cols], axis=1).astype("float64")
    t = transform
    xs = t.a * corner_c + t.b * corner_r + t.c
    ys = t.d * corner_c + t.e * corner_r + t.f
    bounds = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], axis=1)
    lon, lat = transform_points(crs, "EPSG:4326", xs.ravel().tolist(), ys.ravel().tolist())
    lon_a, lat_a = np.reshape(lon, xs.shape), np.reshape(lat, ys.shape)
    lonlat = np.stack([lon_a.min(1), lat_a.min(1), lon_a.max(1), lat_a.max(1)], axis=1)
    return bounds, lonlat


def patch_offsets(length: int, size: int, stride: int) -> list[int]:
    """Window origins along one axis: every ``stride`` while a window fits, then one padded
    window for any remainder not yet covered."""
    offsets = list(range(0, max(length - size, 0) + 1, stride))
    if offsets[-1] + size < length and offsets[-1] + stride < length:
        offsets.append(offsets[-1] + stride)
    return offsets


def _roi_crs(value: Any) -> Any:
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        return CRS.from_user_input(value)
    except (CRSError, ValueError):
        raise ConfigError(f"unknown ROI CRS {value!r}; use e.g. EPSG:4326 or 'scene'") from None


def select_windows(
    ds: Any, size: int, stride: int, rois: Sequence[Any] | None, roi_crs: Any
) -> list[tuple[int, int]]:
    """Window origins ``(row, col)`` over the scene, keeping those that touch a ROI."""
    grid = [
        (r, c)
        for r in patch_offsets(ds.height, size, stride)
        for c in patch_offsets(ds.width, size, stride)
    ]
    if not rois:
        return grid
    import shapely
    from rasterio.warp import transform_geom

    crs = ds.crs if roi_crs in (None, "scene") else _roi_crs(roi_crs)
    areas = [
        shapely.geometry.shape(transform_geom(crs, ds.crs, shapely.geometry.mapping(g)))
        for g in rois
    ]
    rows, cols = np.array(grid).T
    bounds, _ = patch_bounds(ds.transform, ds.crs, rows, cols, size)
    boxes = shapely.box(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3])
    hit = shapely.intersects(boxes[:, None], np.array(areas, dtype=object)[None, :]).any(axis=1)
    return [g for g, h in zip(grid, hit, strict=True) if h]


def _box(b: Sequence[float]) -> dict[str, Any]:
    x0, y0, x1, y1 = b
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def index_geojson(records: Sequence[PatchRecord], crs: CRS, meta: dict[str, Any]) -> dict[str, Any]:
    """The index as a GeoJSON FeatureCollection (geometry lon/lat, scene bounds as properties)."""
    crs_text = crs.to_string()
    features = []
    for rec in records:
        props = asdict(rec)
        props["bounds"] = list(rec.bounds)
        props["lonlat_bounds"] = list(rec.lonlat_bounds)
        props["crs"] = crs_text
        props["scene_geometry"] = _box(rec.bounds)
        props["image"] = f"img/{rec.id}.h5"
        props["mask"] = None if rec.landslide_pixels is None else f"mask/{mask_id(rec.id)}.h5"
        features.append(
            {
                "type": "Feature",
                "id": rec.id,
                "geometry": _box(rec.lonlat_bounds),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "crs_scene": crs_text, **meta, "features": features}


def mask_id(image_id: str) -> str:
    """``image_12`` → ``mask_12``."""
    return "mask_" + image_id.removeprefix("image_")


CSV_COLUMNS = (
    "id",
    "image",
    "mask",
    "crs",
    "row_off",
    "col_off",
    "minx",
    "miny",
    "maxx",
    "maxy",
    "west",
    "south",
    "east",
    "north",
    "valid_fraction",
    "landslide_pixels",
)


def index_csv(records: Sequence[PatchRecord], crs: CRS) -> str:
    """The index as CSV text, one row per patch (columns :data:`CSV_COLUMNS`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        mask = "" if r.landslide_pixels is None else f"mask/{mask_id(r.id)}.h5"
        pixels = "" if r.landslide_pixels is None else r.landslide_pixels
        writer.writerow(
            [
                r.id,
                f"img/{r.id}.h5",
                mask,
                crs.to_string(),
                r.row_off,
                r.col_off,
                *r.bounds,
                *r.lonlat_bounds,
                round(r.valid_fraction, 6),
                pixels,
            ]
        )
    return buf.getvalue()


def write_index(
    folder: Path, records: Sequence[PatchRecord], crs: CRS, meta: dict[str, Any]
) -> Path:
    """Write ``index.geojson`` and ``index.csv`` into ``folder``; return the GeoJSON path."""
    path = folder / INDEX_GEOJSON
    write_text_atomic(path, json.dumps(index_geojson(records, crs, meta), indent=1))
    write_text_atomic(folder / INDEX_CSV, index_csv(records, crs))
    return path
