"""The products a run adds to detect's: the change raster and polygons, and an RGB COG of
the acquisition (for the history panels and any viewer), plus reading a previous run's
landslide raster onto the current grid. COGs go through the one writer
(:func:`slidewatch.inference.cog.write_array_cog`, policy ``ZSTD_FAST``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject

from slidewatch.atomic import write_text_atomic
from slidewatch.bands import RGB, band_from_description, scale_vector
from slidewatch.inference.cog import ZSTD_FAST, write_array_cog
from slidewatch.monitoring.kinds import CHANGE_CLASSES, UNKNOWN
from slidewatch.rgb import colour_bands
from slidewatch.scene import Grid


def read_landslides(path: Path) -> tuple[np.ndarray, Grid]:
    with rasterio.open(path) as ds:
        return ds.read(1), Grid.of(ds)


def read_onto(data: bytes, grid: Grid) -> np.ndarray:
    """A 0/1/255 raster (file bytes) on ``grid``: nearest neighbour, 255 outside its extent."""
    with MemoryFile(data) as memory, memory.open() as ds:
        if Grid.of(ds) == grid:
            return ds.read(1)
        out = np.full(grid.shape, UNKNOWN, dtype=np.uint8)
        reproject(
            ds.read(1), out, src_transform=ds.transform, src_crs=ds.crs,
            dst_transform=grid.transform, dst_crs=grid.crs, src_nodata=UNKNOWN,
            dst_nodata=UNKNOWN, resampling=Resampling.nearest,
        )  # fmt: skip
        return out


def write_change_raster(change: np.ndarray, grid: Grid, path: Path) -> None:
    """The change classes as a COG (255 = unknown), classes named in its tags."""
    classes = json.dumps({str(k): v for k, v in CHANGE_CLASSES.items()})
    write_array_cog(change, grid, path, UNKNOWN, "nearest", ZSTD_FAST, {"classes": classes})


def write_rgb(stack: Path, path: Path) -> None:
    """B4, B3, B2 of the stack as a COG: raw digital numbers (uint16, 0 where unseen), which
    is exact, half the size of float32 and quicker to compress; the first three bands as
    float32 (NaN where unseen) when the stack has no B4, B3, B2."""
    with rasterio.open(stack) as ds:
        names = [band_from_description(d) for d in ds.descriptions]
        has_rgb = all(b in names for b in RGB)
        raw = ds.read([i + 1 for i in colour_bands(names)], out_dtype=np.float32)
        nodata = ds.nodata
        grid = Grid.of(ds)
    unseen = np.isnan(raw)  # fetch's stacks: NaN; any other nodata value counts too
    if nodata is not None and not np.isnan(nodata):
        unseen |= raw == np.float32(nodata)
    if not has_rgb:
        raw[unseen] = np.nan
        write_array_cog(raw, grid, path, float("nan"), "average", ZSTD_FAST)
        return
    # float32 in place: DNs are < 2^16, well within its 24-bit mantissa, so rounding is exact
    raw *= scale_vector(RGB).astype(np.float32)[:, None, None]
    np.clip(np.rint(raw, out=raw), 1, 65535, out=raw)
    raw[unseen] = 0
    write_array_cog(raw.astype(np.uint16), grid, path, 0, "average", ZSTD_FAST)


def write_change_geojson(features: list[dict[str, Any]], path: Path) -> None:
    """Change polygons (lon/lat, RFC 7946) with kind, landslide id and areas."""
    doc = {"type": "FeatureCollection", "features": features}
    write_text_atomic(path, json.dumps(doc, sort_keys=True))
