"""Elevation and slope on the stack's projected 10 m grid.

The DEM is loaded on the grid grown by one pixel on every side, slope (degrees,
xarray-spatial's Horn method on the projected metres) is computed on that, and the border
is cropped: every pixel of the stack has a slope from its true neighbours, the edge included.
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


def slope_degrees(dem: Any, geobox: GeoBox) -> Any:
    """Slope in degrees of ``dem`` (a numpy or dask H×W array in metres on ``geobox``),
    NaN on ``geobox``'s one-pixel border and where the DEM has no data."""
    import xarray as xr
    from xrspatial import slope

    coords = geobox.coordinates
    grid = xr.DataArray(
        dem, dims=("y", "x"), coords={"y": coords["y"].values, "x": coords["x"].values}
    )
    return slope(grid).data


def terrain_on_grid(dem_padded: da.Array, geobox: GeoBox, chunks: Any) -> tuple[Any, Any]:
    """``(slope degrees, dem metres)`` on ``geobox`` from a DEM on ``padded(geobox)``,
    both dask arrays with ``chunks``."""
    big = padded(geobox)
    dem = dem_padded.astype(np.float32)
    slope = slope_degrees(dem, big).astype(np.float32)
    inner = (slice(PAD_PX, -PAD_PX), slice(PAD_PX, -PAD_PX))
    return slope[inner].rechunk(chunks), dem[inner].rechunk(chunks)
