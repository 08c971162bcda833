"""The windows of reviewed landslides in an archived stack, written as L4S patches with
their index features (``monitor export-reviews``; :mod:`.export_reviews` decides which).

Windows lie on the stack's 128 px lattice (origins at multiples of 128, as ``build-patches``
cuts), so the windows of one acquisition tile the ground and never partly overlap. No torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.data.hdf5 import write_image, write_mask
from slidewatch.data.patch_index import PRE_DIR, mask_id
from slidewatch.monitoring.registry.reviewed import ReviewedLandslide

PATCH_PX = 128
MIN_VALID_FRACTION = 0.5
"""A window seeing less of the ground than this (cloud, outside the swath) is not written."""


def windows_over(bounds_px: Sequence[float], size: int) -> list[tuple[int, int]]:
    """Origins (row, col) of the windows of the stack's ``size`` lattice (origins at
    multiples of ``size``, as ``build-patches`` cuts) that cover a pixel box (row0, col0,
    row1, col1): windows of one acquisition tile it and never partly overlap."""
    r0, c0, r1, c1 = bounds_px

    def starts(lo: float, hi: float) -> range:
        first = int(np.floor(lo / size)) * size
        return range(max(first, 0), max(int(np.ceil(hi)), first + 1), size)

    return [(r, c) for r in starts(r0, r1) for c in starts(c0, c1)]


def pixel_box(ds: Any, geom: dict[str, Any]) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    x0, y0, x1, y1 = shape(geom).bounds
    inv = ~ds.transform
    (c0, r0), (c1, r1) = inv * (x0, y1), inv * (x1, y0)
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def write_window(ds: Any, pre: Any, origin: tuple[int, int], confirmed: list[Any],
                  inside: list[ReviewedLandslide], patch: str,
                  out: Path) -> dict[str, Any] | None:  # fmt: skip
    """Image, mask (and pre image) of one window; its index feature (None: mostly unseen)."""
    from rasterio.features import rasterize
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from slidewatch.data.patch_index import patch_bounds
    from slidewatch.scene.windows import RasterWindows, read_padded

    row, col = origin
    image, valid = read_padded(RasterWindows(ds), row, col, PATCH_PX)
    if valid.mean() < MIN_VALID_FRACTION:
        return None
    mask = np.zeros((PATCH_PX, PATCH_PX), np.uint8)
    if confirmed:
        at = window_transform(Window(col, row, PATCH_PX, PATCH_PX), ds.transform)
        mask = rasterize(confirmed, (PATCH_PX, PATCH_PX), transform=at, dtype="uint8")
    mask[~valid] = 0
    bands = stack_bands(ds)
    write_image(out / "img" / f"{patch}.h5", np.moveaxis(image, 0, -1).astype(np.float32),
                bands)  # fmt: skip
    write_mask(out / "mask" / f"{mask_id(patch)}.h5", mask)
    box, lonlat = patch_bounds(ds.transform, ds.crs, np.array([row]), np.array([col]), PATCH_PX)
    has_pre = _write_pre(pre, ds, box[0], out / PRE_DIR / f"{patch}.h5", bands)
    return _feature(patch, inside, ds, origin, box[0], lonlat[0], float(valid.mean()),
                    int(mask.sum()), has_pre)  # fmt: skip


def stack_bands(ds: Any) -> list[str]:
    """The band names of an archived stack (fetch names every band)."""
    from slidewatch.bands import band_from_description
    from slidewatch.errors import RasterError

    names = [band_from_description(d) for d in ds.descriptions]
    if any(n is None for n in names):
        raise RasterError(f"{ds.name}: a band is not named by its description; fetch it again")
    return [str(n) for n in names]


def _write_pre(pre: Any, ds: Any, box: np.ndarray, path: Path, bands: list[str]) -> bool:
    """The same ground in the previous acquisition's stack (same grid CRS), if it saw it."""
    from slidewatch.scene.windows import RasterWindows, read_padded

    if pre is None or pre.crs != ds.crs:
        return False
    if stack_bands(pre) != bands:
        return False
    col, row = ~pre.transform * (float(box[0]), float(box[3]))
    image, valid = read_padded(RasterWindows(pre), round(row), round(col), PATCH_PX)
    if not valid.any():
        return False
    write_image(path, np.moveaxis(image, 0, -1).astype(np.float32), bands)
    return True


def _feature(patch: str, inside: list[ReviewedLandslide], ds: Any, origin: tuple[int, int],
             box: np.ndarray, lonlat: np.ndarray, valid: float, pixels: int,
             has_pre: bool) -> dict[str, Any]:  # fmt: skip
    def ring(b: Sequence[float] | np.ndarray) -> dict[str, Any]:
        x0, y0, x1, y1 = (float(v) for v in b)
        return {"type": "Polygon",
                "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}  # fmt: skip

    first = inside[0]
    seen, before = first.seen, first.before
    props = {
        "id": patch, "image": f"img/{patch}.h5", "mask": f"mask/{mask_id(patch)}.h5",
        "pre": f"{PRE_DIR}/{patch}.h5" if has_pre else None, "crs": ds.crs.to_string(),
        "row_off": origin[0], "col_off": origin[1], "bounds": [float(v) for v in box],
        "lonlat_bounds": [float(v) for v in lonlat], "scene_geometry": ring(box),
        "valid_fraction": round(valid, 6), "landslide_pixels": pixels,
        "groups": [],
        "reviews": [{"id": s.review_id, "aoi": s.aoi, "landslide_id": s.landslide_id,
                     "verdict": str(s.verdict), "reviewer": s.reviewer,
                     "reviewed_at": s.reviewed_at.isoformat(), "run_id": seen.run_id,
                     "acquisition": seen.key, "date": seen.date} for s in inside],
        "source": {"stack": seen.stack_url, "run_id": seen.run_id, "acquisition": seen.key,
                   "date": seen.date,
                   "pre": None if before is None or not has_pre else {
                       "stack": before.stack_url, "run_id": before.run_id,
                       "date": before.date}},
    }  # fmt: skip
    return {"type": "Feature", "id": patch, "geometry": ring(lonlat), "properties": props}
