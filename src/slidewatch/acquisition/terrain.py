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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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


def terrain_block(
    dem_padded: np.ndarray, rows: tuple[int, int], cols: tuple[int, int], geobox: GeoBox
) -> np.ndarray:
    """2×h×w float32 ``(slope degrees, dem metres)`` of the block ``rows`` × ``cols`` of
    ``geobox`` from the whole DEM on ``padded(geobox)``, held in memory.

    The block's window of the padded DEM is one pixel larger on every side, so its slope
    comes from its true neighbours, the AOI's edge included, with no dask overlap and no
    rechunk (their extra tasks and copies of neighbouring chunks)."""
    (y0, y1), (x0, x1) = rows, cols
    window = dem_padded[y0 : y1 + 2 * PAD_PX, x0 : x1 + 2 * PAD_PX]
    out = np.empty((2, y1 - y0, x1 - x0), dtype=np.float32)
    cell_x, cell_y = abs(geobox.affine.a), abs(geobox.affine.e)
    out[0] = horn_slope(window, cell_x, cell_y)[PAD_PX:-PAD_PX, PAD_PX:-PAD_PX]
    out[1] = window[PAD_PX:-PAD_PX, PAD_PX:-PAD_PX]
    return out
