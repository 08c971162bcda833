"""The products a run adds to detect's: the change raster and polygons, and an RGB COG of
the acquisition (for the history panels and any viewer), plus reading a previous run's
landslide raster onto the current grid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject

from slidewatch.atomic import write_text_atomic
from slidewatch.bands import RGB
from slidewatch.monitoring.kinds import CHANGE_CLASSES, UNKNOWN

TILE = 256
ZSTD_LEVEL = 1


@dataclass(frozen=True)
class Grid:
    crs: Any
    transform: Any
    shape: tuple[int, int]


def read_landslides(path: Path) -> tuple[np.ndarray, Grid]:
    with rasterio.open(path) as ds:
        return ds.read(1), Grid(ds.crs, ds.transform, (ds.height, ds.width))


def read_onto(data: bytes, grid: Grid) -> np.ndarray:
    """A 0/1/255 raster (file bytes) on ``grid``: nearest neighbour, 255 outside its extent."""
    with MemoryFile(data) as memory, memory.open() as ds:
        if (ds.crs, ds.transform, (ds.height, ds.width)) == (grid.crs, grid.transform, grid.shape):
            return ds.read(1)
        out = np.full(grid.shape, UNKNOWN, dtype=np.uint8)
        reproject(
            ds.read(1), out, src_transform=ds.transform, src_crs=ds.crs,
            dst_transform=grid.transform, dst_crs=grid.crs, src_nodata=UNKNOWN,
            dst_nodata=UNKNOWN, resampling=Resampling.nearest,
        )  # fmt: skip
        return out


def _write_cog(
    array: np.ndarray, grid: Grid, path: Path, nodata: float, resampling: str, **tags: str
) -> None:
    """A COG in one pass (through a temporary name).

    ZSTD level 1 with a predictor: for the RGB of a 4 km² bench AOI 3.5 ms and 163 kB,
    against 5.6 ms for deflate level 1; deflate level 6 (the former setting) wrote 171 kB.
    A raster of one tile needs no overviews, and GDAL's GTiff driver writes it in the COG
    layout itself (rio-cogeo validates it) in 60 % of the time of the COG driver, which
    writes a temporary GeoTIFF and copies it (the tags are set before the pixels, so that
    the IFD stays first). Larger ones: see :func:`_write_tiled_cog`.
    GDAL-based readers (QGIS, titiler, rio-tiler, the service's tiles) read both."""
    from slidewatch.atomic import atomic_output

    bands = array if array.ndim == 3 else array[None]
    predictor = 3 if np.issubdtype(bands.dtype, np.floating) else 2
    profile: dict[str, Any] = {
        "count": bands.shape[0], "dtype": str(bands.dtype), "height": grid.shape[0],
        "width": grid.shape[1], "crs": grid.crs, "transform": grid.transform, "nodata": nodata,
    }  # fmt: skip
    codec = {"compress": "zstd", "predictor": predictor}
    with atomic_output(path, ".tif") as tmp:
        if max(grid.shape) > TILE:
            _write_tiled_cog(bands, profile, codec, tmp, resampling, tags)
            return
        with rasterio.open(tmp, "w", **profile, **codec, driver="GTiff", zstd_level=ZSTD_LEVEL,
                           tiled=True, blockxsize=TILE, blockysize=TILE) as ds:  # fmt: skip
            if tags:  # before the pixels: set later, GTiff moves the grown IFD past the data
                ds.update_tags(**tags)
            ds.write(bands)


def overview_factors(shape: tuple[int, int], tile: int = TILE) -> list[int]:
    """2, 4, 8, ... until an overview fits in one tile (the COG driver's default levels)."""
    factors, f = [], 2
    while max(shape) / (f // 2) > tile:
        factors.append(f)
        f *= 2
    return factors


def _write_tiled_cog(
    bands: np.ndarray, profile: dict[str, Any], codec: dict[str, Any], tmp: Path,
    resampling: str, tags: dict[str, str],
) -> None:  # fmt: skip
    """A COG of several tiles: the pixels and their overviews in a GDAL memory dataset, then
    copied by the COG driver, which lays them out and compresses each tile once on all
    cores. Given no overviews, the COG driver computes them into a temporary compressed
    GeoTIFF and reads them back: for the 800 px RGB of the monitoring bench's 64 km² AOI,
    66 ms against 36 ms this way (the full-resolution pixels are identical)."""
    from rasterio.enums import Resampling
    from rasterio.shutil import copy

    with rasterio.open(tmp.with_suffix(".mem"), "w", driver="MEM", **profile) as mem:
        mem.write(bands)
        if tags:
            mem.update_tags(**tags)
        mem.build_overviews(overview_factors(bands.shape[1:]), Resampling[resampling])
        copy(mem, tmp, driver="COG", **codec, level=ZSTD_LEVEL, blocksize=TILE,
             overviews="FORCE_USE_EXISTING", num_threads="all_cpus")  # fmt: skip


def write_change_raster(change: np.ndarray, grid: Grid, path: Path) -> None:
    """The change classes as a COG (255 = unknown), classes named in its tags."""
    classes = json.dumps({str(k): v for k, v in CHANGE_CLASSES.items()})
    _write_cog(change, grid, path, UNKNOWN, "nearest", classes=classes)


def write_rgb(stack: Path, path: Path) -> None:
    """B4, B3, B2 of the stack as a COG: raw digital numbers (uint16, 0 where unseen), which
    is exact, half the size of float32 and quicker to compress; the first three bands as
    float32 (NaN where unseen) when the stack has no B4, B3, B2."""
    from slidewatch.bands import scale_vector

    with rasterio.open(stack) as ds:
        names = [d or "" for d in ds.descriptions]
        has_rgb = all(b in names for b in RGB)
        indexes = [names.index(b) + 1 for b in RGB] if has_rgb else [1, 2, 3][: ds.count]
        raw = ds.read(indexes, out_dtype=np.float32)
        nodata = ds.nodata
        grid = Grid(ds.crs, ds.transform, (ds.height, ds.width))
    unseen = np.isnan(raw)  # fetch's stacks: NaN; any other nodata value counts too
    if nodata is not None and not np.isnan(nodata):
        unseen |= raw == np.float32(nodata)
    if not has_rgb:
        raw[unseen] = np.nan
        _write_cog(raw, grid, path, float("nan"), "average")
        return
    # float32 in place: DNs are < 2^16, well within its 24-bit mantissa, so rounding is exact
    raw *= scale_vector(RGB).astype(np.float32)[:, None, None]
    np.clip(np.rint(raw, out=raw), 1, 65535, out=raw)
    raw[unseen] = 0
    _write_cog(raw.astype(np.uint16), grid, path, 0, "average")


def write_change_geojson(features: list[dict[str, Any]], path: Path) -> None:
    """Change polygons (lon/lat, RFC 7946) with kind, landslide id and areas."""
    doc = {"type": "FeatureCollection", "features": features}
    write_text_atomic(path, json.dumps(doc, sort_keys=True))
