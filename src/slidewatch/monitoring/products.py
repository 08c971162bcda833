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
from slidewatch.monitoring.change import CHANGE_CLASSES, UNKNOWN

TILE = 256


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
    """A deflate COG in one pass with GDAL's COG driver (through a temporary name)."""
    from slidewatch.atomic import atomic_output

    bands = array if array.ndim == 3 else array[None]
    profile = {"driver": "COG", "count": bands.shape[0], "dtype": str(bands.dtype),
               "height": grid.shape[0], "width": grid.shape[1], "crs": grid.crs,
               "transform": grid.transform, "nodata": nodata, "compress": "deflate",
               "blocksize": TILE, "overview_resampling": resampling}  # fmt: skip
    with atomic_output(path, ".tif") as tmp, rasterio.open(tmp, "w", **profile) as ds:
        ds.write(bands)
        ds.update_tags(**tags)


def write_change_raster(change: np.ndarray, grid: Grid, path: Path) -> None:
    """The change classes as a COG (255 = unknown), classes named in its tags."""
    classes = json.dumps({str(k): v for k, v in CHANGE_CLASSES.items()})
    _write_cog(change, grid, path, UNKNOWN, "nearest", classes=classes)


def write_rgb(stack: Path, path: Path) -> None:
    """B4, B3, B2 of the stack (L4S scale, float32, NaN where unseen) as a COG."""
    with rasterio.open(stack) as ds:
        names = [d or "" for d in ds.descriptions]
        indexes = [names.index(b) + 1 for b in RGB] if all(b in names for b in RGB) else [1, 2, 3]
        data = ds.read(indexes[: ds.count], masked=True).astype(np.float32).filled(np.nan)
        grid = Grid(ds.crs, ds.transform, (ds.height, ds.width))
    _write_cog(data, grid, path, float("nan"), "average")


def write_change_geojson(features: list[dict[str, Any]], path: Path) -> None:
    """Change polygons (lon/lat, RFC 7946) with kind, landslide id and areas."""
    doc = {"type": "FeatureCollection", "features": features}
    write_text_atomic(path, json.dumps(doc, sort_keys=True))
