"""What a geologist checks first, measured under each landslide polygon of a run: mean slope
(the stack's ``slope`` band, degrees), mean elevation (``dem``, metres) and the change of
NDVI from the previous run to this one. Each run archives its NDVI (``ndvi.tif``, int16 ×
10⁴) so the next run has the *before* without refetching it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject

from slidewatch.bands import band_from_description, scale_vector
from slidewatch.inference.cog import ZSTD_FAST, write_array_cog
from slidewatch.monitoring.confidence import Attributes
from slidewatch.scene import Grid

NDVI_SCALE = 10000.0
NDVI_NODATA = -32768


def stack_layers(stack: Path) -> dict[str, np.ndarray]:
    """``slope`` (°), ``dem`` (m) and ``ndvi`` of the stack, float32 with NaN where unseen or
    where the stack lacks the bands."""
    with rasterio.open(stack) as ds:
        names = [band_from_description(d) for d in ds.descriptions]
        nodata = ds.nodata

        def read(name: str) -> np.ndarray:
            if name not in names:
                return np.full(ds.shape, np.nan, dtype=np.float32)
            band = ds.read(names.index(name) + 1, out_dtype=np.float32)
            if nodata is not None and not np.isnan(nodata):
                band[band == np.float32(nodata)] = np.nan
            return band * np.float32(scale_vector([name])[0])

        red, nir = read("B4"), read("B8")
        with np.errstate(invalid="ignore", divide="ignore"):
            ndvi = (nir - red) / (nir + red)
        ndvi[~np.isfinite(ndvi)] = np.nan
        return {"slope": read("slope"), "dem": read("dem"), "ndvi": ndvi.astype(np.float32)}


def write_ndvi(ndvi: np.ndarray, grid: Grid, path: Path) -> None:
    """NDVI as an int16 COG (× 10⁴; -32768 where unseen)."""
    scaled = np.where(np.isfinite(ndvi), np.rint(ndvi * NDVI_SCALE), NDVI_NODATA)
    write_array_cog(scaled.astype(np.int16), grid, path, NDVI_NODATA, "average", ZSTD_FAST)


def read_ndvi_onto(data: bytes, grid: Grid) -> np.ndarray:
    """A run's archived NDVI on ``grid`` (float32, NaN where unseen or outside)."""
    with MemoryFile(data) as memory, memory.open() as ds:
        if Grid.of(ds) == grid:
            raw = ds.read(1)
        else:
            raw = np.full(grid.shape, NDVI_NODATA, dtype=np.int16)
            reproject(
                ds.read(1), raw, src_transform=ds.transform, src_crs=ds.crs,
                dst_transform=grid.transform, dst_crs=grid.crs, src_nodata=NDVI_NODATA,
                dst_nodata=NDVI_NODATA, resampling=Resampling.nearest,
            )  # fmt: skip
    out = raw.astype(np.float32) / np.float32(NDVI_SCALE)
    out[raw == NDVI_NODATA] = np.nan
    return out


def polygon_means(labels: np.ndarray, values: np.ndarray, n: int) -> list[float | None]:
    """Mean of ``values`` under each label 1..n (finite values only; None where none)."""
    ok = (labels > 0) & np.isfinite(values)
    sums = np.bincount(labels[ok], weights=values[ok].astype(np.float64), minlength=n + 1)
    counts = np.bincount(labels[ok], minlength=n + 1)
    return [round(float(sums[i] / counts[i]), 3) if counts[i] else None for i in range(1, n + 1)]


def measure(
    labels: np.ndarray, n: int, layers: dict[str, np.ndarray], ndvi_before: np.ndarray | None
) -> list[Attributes]:
    """The attributes of polygons 1..n of ``labels`` (NDVI change None without a before)."""
    slope = polygon_means(labels, layers["slope"], n)
    dem = polygon_means(labels, layers["dem"], n)
    if ndvi_before is None:
        change: list[float | None] = [None] * n
    else:
        change = polygon_means(labels, layers["ndvi"] - ndvi_before, n)
    return [Attributes(slope[i], change[i], dem[i]) for i in range(n)]
