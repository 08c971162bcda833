"""Elevation and slope on the stack's projected 10 m grid.

The DEM is loaded on the grid grown by one pixel on every side, slope (degrees, Horn's
method on the projected metres) is computed on that, and the border is cropped: every pixel
of the stack has a slope from its true neighbours, the edge included.

Horn's method is two 3×3 Sobel filters (``scipy.ndimage.sobel``: the x and y gradients
with 1-2-1 weights) divided by 8 × the cell size, then ``atan(hypot)``: xarray-spatial's
``slope`` computes the same numbers (a test compares them), but it costs every process
about 3 s on its first call (its import and numba's compilation, which xarray-spatial does
not cache), more than the whole terrain of a 20 km × 20 km stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

PAD_PX = 1
"""Pixels of DEM loaded beyond the grid on each side (Horn's 3×3 window needs one)."""


def padded(geobox: GeoBox, pad_px: int = PAD_PX) -> GeoBox:
    """``geobox`` grown by ``pad_px`` pixels on every side (same pixel grid)."""
    return geobox.pad(pad_px)


def horn_slope(dem: np.ndarray, cell_x_m: float, cell_y_m: float) -> np.ndarray:
    """Slope in degrees (float32) of an H×W DEM in metres; NaN on the one-pixel border
    and next to DEM pixels without data."""
    from scipy.ndimage import sobel

    dz_dx = sobel(dem, axis=1, output=np.float64, mode="nearest")
    dz_dy = sobel(dem, axis=0, output=np.float64, mode="nearest")
    dz_dx *= dz_dx / (8.0 * cell_x_m) ** 2  # squared gradients in place: fewer passes
    dz_dy *= dz_dy / (8.0 * cell_y_m) ** 2
    dz_dx += dz_dy
    out = np.degrees(np.arctan(np.sqrt(dz_dx, out=dz_dx))).astype(np.float32)
    out[[0, -1], :] = np.nan
    out[:, [0, -1]] = np.nan
    return out


def slope_degrees(dem: Any, geobox: GeoBox) -> Any:
    """Slope in degrees of ``dem`` (a numpy or dask H×W array in metres on ``geobox``),
    NaN on ``geobox``'s one-pixel border and where the DEM has no data."""
    cell_x, cell_y = abs(geobox.affine.a), abs(geobox.affine.e)
    if isinstance(dem, np.ndarray):
        return horn_slope(dem.astype(np.float32), cell_x, cell_y)
    return dem.astype(np.float32).map_overlap(
        horn_slope, depth=1, boundary=np.nan, dtype=np.float32, cell_x_m=cell_x, cell_y_m=cell_y
    )


def _grown(chunks: tuple[int, ...], pad_px: int) -> tuple[int, ...]:
    """``chunks`` of one axis with the first and last grown by ``pad_px``."""
    out = list(chunks)
    out[0] += pad_px
    out[-1] += pad_px
    return tuple(out)


def terrain_on_grid(dem_padded: da.Array, geobox: GeoBox, chunks: Any) -> tuple[Any, Any]:
    """``(slope degrees, dem metres)`` on ``geobox`` from a DEM on ``padded(geobox)``,
    both dask arrays with ``chunks``."""
    # Chunked so that cropping the pad leaves exactly ``chunks``: no rechunk afterwards.
    grown = tuple(_grown(tuple(c), PAD_PX) for c in chunks)
    dem = dem_padded.astype(np.float32).rechunk(grown)
    slope = slope_degrees(dem, padded(geobox))
    inner = (slice(PAD_PX, -PAD_PX), slice(PAD_PX, -PAD_PX))
    return slope[inner], dem[inner]
