"""One read_padded for every reader: a scene (scaled, mosaicked) and a raster as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.scene import RasterWindows, SceneReader, open_scene, read_padded

from .test_mosaic import values, write_tile

WINDOWS = [(-3, -5), (0, 0), (50, 70), (55, -2), (-20, 75), (60, 0), (-16, -16), (70, 90)]
"""(row, col) of 16 px windows of a 60×80 grid: past each edge and corner, inside, outside."""


def expected(data: np.ndarray, row: int, col: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Independently: the grid padded with zeros on every side, then cut."""
    pad = 2 * size  # every window of WINDOWS lies within
    padded = np.pad(data, ((0, 0), (pad, pad), (pad, pad)))
    inside = np.pad(np.ones(data.shape[1:], bool), pad)
    rows, cols = slice(row + pad, row + pad + size), slice(col + pad, col + pad + size)
    return padded[:, rows, cols], inside[rows, cols]


@pytest.mark.parametrize(("row", "col"), WINDOWS)
def test_a_scene_and_its_raster_give_the_same_padded_windows(
    tmp_path: Path, row: int, col: int
) -> None:
    data = values(60, 80)
    path = write_tile(tmp_path / "s.tif", data, descriptions=("B4", "B3", "B2", "B8"))
    scene = open_scene([path], scale="none")
    want, want_valid = expected(data[[2, 1, 0, 3]], row, col, 16)  # the scene's L4S order
    with SceneReader(scene) as reader:
        got, valid = read_padded(reader, row, col, 16)
    assert got.dtype == np.float32 and got.shape == (4, 16, 16)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(valid, want_valid)
    with rasterio.open(path) as ds:
        raw, raw_valid = read_padded(RasterWindows(ds, indexes=[3, 2, 1, 4]), row, col, 16)
    assert raw.dtype == np.float64
    np.testing.assert_array_equal(raw, want.astype(np.float64))
    np.testing.assert_array_equal(raw_valid, want_valid)


def test_raster_windows_apply_the_validity_rule(tmp_path: Path) -> None:
    data = values(20, 20)
    data[:, 2, 3] = 0.0  # 0 in every band: Sentinel-2's fill when no nodata is declared
    data[1, 4, 4] = np.nan
    path = write_tile(tmp_path / "r.tif", data)
    with rasterio.open(path) as ds:
        got, valid = read_padded(RasterWindows(ds, zero_is_nodata=True), -1, -1, 8)
        _, kept_valid = read_padded(RasterWindows(ds, zero_is_nodata=False), -1, -1, 8)
    assert not valid[3, 4] and not valid[5, 5] and not valid[0].any() and not valid[:, 0].any()
    assert (got[:, 5, 5] == 0).all()  # an invalid pixel reads 0 in every band
    assert kept_valid[3, 4] and not kept_valid[5, 5]
