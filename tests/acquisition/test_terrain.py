"""Slope by Horn's method (scipy's Sobel filters) against xarray-spatial's ``slope``, and
the chunked terrain on the stack grid against the whole-array computation."""

from __future__ import annotations

import numpy as np
import pytest
from odc.geo.geobox import GeoBox

from slidewatch.acquisition.terrain import horn_slope, padded, terrain_block


def rough_dem(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    return (2000 + 3.0 * xx - 1.5 * yy + 40 * rng.standard_normal((height, width))).astype(
        np.float32
    )


def test_horn_slope_equals_xarray_spatial() -> None:
    xr = pytest.importorskip("xarray")
    xrspatial = pytest.importorskip("xrspatial")
    geobox = GeoBox.from_bbox((0, 0, 400, 300), "EPSG:32718", resolution=10)
    dem = rough_dem(*geobox.shape)
    dem[12, 17] = np.nan  # no data spreads to its neighbours in both
    coords = geobox.coordinates
    grid = xr.DataArray(
        dem, dims=("y", "x"), coords={"y": coords["y"].values, "x": coords["x"].values}
    )
    expected = xrspatial.slope(grid).values
    ours = horn_slope(dem, 10.0, 10.0)
    # Horn's window leaves out its centre: xarray-spatial gives the no-data pixel itself a
    # slope, the Sobel filters (0 × NaN) do not; the stack is no data there either way.
    assert np.isnan(ours[12, 17]) and not np.isnan(expected[12, 17])
    expected[12, 17] = np.nan
    assert np.array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_allclose(ours, expected, atol=1e-4, equal_nan=True)


def test_terrain_by_blocks_matches_the_whole_array() -> None:
    geobox = GeoBox.from_bbox((0, 0, 700, 500), "EPSG:32718", resolution=10)
    big = padded(geobox)
    dem = rough_dem(*big.shape)
    whole = horn_slope(dem, 10.0, 10.0)[1:-1, 1:-1]
    assert np.isfinite(whole).all()  # the stack's edge has a slope from its true neighbours
    height, width = geobox.shape
    slope = np.full((height, width), np.nan, np.float32)
    elevation = np.full((height, width), np.nan, np.float32)
    for y0, y1 in ((0, 16), (16, 32), (32, 48), (48, height)):
        for x0, x1 in ((0, 32), (32, 64), (64, width)):
            block = terrain_block(dem, (y0, y1), (x0, x1), geobox)
            slope[y0:y1, x0:x1], elevation[y0:y1, x0:x1] = block
    np.testing.assert_array_equal(elevation, dem[1:-1, 1:-1])
    np.testing.assert_allclose(slope, whole, rtol=0, atol=1e-6)
