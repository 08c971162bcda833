"""Run products: one-tile and larger rasters are both valid COGs with the pixels written;
the RGB product of a stack is its B4, B3, B2 in digital numbers, 0 where unseen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from slidewatch.bands import RGB, scale_vector
from slidewatch.errors import RasterError
from slidewatch.inference.cog import BLOCK_SIZE
from slidewatch.monitoring.archive import products
from slidewatch.monitoring.kinds import CHANGE_CLASSES
from slidewatch.scene import Grid

TRANSFORM = from_origin(215_000, 8_960_000, 10, 10)


@pytest.mark.parametrize("side", [200, BLOCK_SIZE, 700])  # one tile, exactly one, several
def test_change_raster_is_a_valid_cog_of_the_classes(tmp_path: Path, side: int) -> None:
    change = np.random.default_rng(side).choice([0, 1, 2, 3, 255], (side, side)).astype(np.uint8)
    grid = Grid("EPSG:32718", TRANSFORM, side, side)
    path = tmp_path / "change.tif"
    products.write_change_raster(change, grid, path)
    valid, errors, _ = cog_validate(str(path))
    assert valid, errors
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(ds.read(1), change)
        assert ds.nodata == 255 and ds.transform == TRANSFORM and ds.crs.to_epsg() == 32718
        assert json.loads(ds.tags()["classes"]) == {str(k): v for k, v in CHANGE_CLASSES.items()}
        assert ds.block_shapes[0] == (BLOCK_SIZE, BLOCK_SIZE)
        assert bool(ds.overviews(1)) == (side > BLOCK_SIZE)
    assert [p.name for p in tmp_path.iterdir()] == ["change.tif"]  # no temporary left


def test_rgb_is_digital_numbers_zero_where_unseen(tmp_path: Path) -> None:
    names = ("B2", "B3", "B4", "B8")
    rng = np.random.default_rng(1)
    stack = (rng.random((4, 60, 80)) * 0.4).astype(np.float32)
    stack[:, 5:9, 10:20] = np.nan
    profile = {"driver": "GTiff", "count": 4, "dtype": "float32", "height": 60, "width": 80,
               "crs": "EPSG:32718", "transform": TRANSFORM, "nodata": float("nan")}  # fmt: skip
    with rasterio.open(tmp_path / "stack.tif", "w", **profile) as ds:
        ds.write(stack)
        ds.descriptions = names
    products.write_rgb(tmp_path / "stack.tif", tmp_path / "rgb.tif")
    assert cog_validate(str(tmp_path / "rgb.tif"))[0]
    with rasterio.open(tmp_path / "rgb.tif") as ds:
        rgb = ds.read()
        assert ds.dtypes[0] == "uint16" and ds.nodata == 0
    rows = [names.index(b) for b in RGB]
    expected = np.clip(np.rint(stack[rows] * scale_vector(RGB)[:, None, None]), 1, 65535)
    expected[np.isnan(expected)] = 0
    np.testing.assert_array_equal(rgb, expected.astype(np.uint16))
    assert (rgb[:, 5:9, 10:20] == 0).all() and (rgb[:, 10:, :] > 0).all()


def test_rgb_of_several_tiles_has_overviews_that_skip_unseen_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    stack = (rng.random((3, 600, 520)) * 0.3 + 0.01).astype(np.float32)
    stack[:, 100:300:3, :] = np.nan  # every third row unseen: each 2 × 2 block keeps some
    stack[:, 400:420, 40:60] = np.nan  # and a block where nothing was seen
    profile = {"driver": "GTiff", "count": 3, "dtype": "float32", "height": 600, "width": 520,
               "crs": "EPSG:32718", "transform": TRANSFORM, "nodata": float("nan")}  # fmt: skip
    with rasterio.open(tmp_path / "stack.tif", "w", **profile) as ds:
        ds.write(stack)
        ds.descriptions = RGB[::-1]  # B2, B3, B4 in file order: the product reorders them
    products.write_rgb(tmp_path / "stack.tif", tmp_path / "rgb.tif")
    valid, errors, _ = cog_validate(str(tmp_path / "rgb.tif"))
    assert valid, errors
    with rasterio.open(tmp_path / "rgb.tif") as ds:
        assert ds.overviews(1) == [2, 4]
        full = ds.read()
        half = ds.read(out_shape=(3, 300, 260))  # the first overview
    blocks = full.reshape(3, 300, 2, 260, 2).transpose(0, 1, 3, 2, 4).reshape(3, 300, 260, 4)
    seen = blocks > 0
    assert (half[~seen.any(axis=-1)] == 0).all()  # nothing seen: unseen
    lo = np.where(seen, blocks, 65535).min(axis=-1)
    hi = np.where(seen, blocks, 0).max(axis=-1)
    some = seen.any(axis=-1)
    # averages of the seen pixels only: an unseen 0 counted in would fall below the minimum
    assert ((half[some] >= lo[some]) & (half[some] <= hi[some])).all()


@pytest.mark.parametrize("side", [200, 700])  # the GTiff layout and the COG driver's
def test_a_product_that_does_not_validate_is_not_written(
    tmp_path: Path, side: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rio_cogeo.cogeo

    monkeypatch.setattr(rio_cogeo.cogeo, "cog_validate", lambda path, **_: (False, ["bad IFD"], []))
    change = np.zeros((side, side), np.uint8)
    with pytest.raises(RasterError, match=r"did not validate.*bad IFD"):
        products.write_change_raster(change, Grid("EPSG:32718", TRANSFORM, side, side),
                                     tmp_path / "change.tif")  # fmt: skip
    assert list(tmp_path.iterdir()) == []
