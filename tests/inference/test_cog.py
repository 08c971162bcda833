"""The one COG writer: its compression policies, overview levels, and validation of what it
writes from a GeoTIFF on disk or an array in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from slidewatch.errors import RasterError
from slidewatch.inference.cog import (
    DEFLATE,
    ZSTD_FAST,
    overview_factors,
    write_array_cog,
    write_cog,
)
from slidewatch.scene import Grid

GRID = Grid("EPSG:32718", from_origin(215_000, 8_960_000, 10, 10), 300, 260)


def test_policies_name_gdal_options_per_driver() -> None:
    assert DEFLATE.options("float32", "COG") == {"compress": "deflate"}
    assert ZSTD_FAST.options("uint16", "COG") == {"compress": "zstd", "level": 1, "predictor": 2}
    assert ZSTD_FAST.options("float32", "GTiff") == {"compress": "zstd", "zstd_level": 1,
                                                     "predictor": 3}  # fmt: skip


@pytest.mark.parametrize("policy", [DEFLATE, ZSTD_FAST])
def test_both_writers_give_valid_cogs_of_the_pixels(tmp_path: Path, policy: object) -> None:
    data = np.random.default_rng(3).random((1, 300, 260)).astype(np.float32)
    write_array_cog(data, GRID, tmp_path / "array.tif", float("nan"), "average", policy)  # type: ignore[arg-type]
    profile = {"driver": "GTiff", "count": 1, "dtype": "float32", "height": 300, "width": 260,
               "crs": GRID.crs, "transform": GRID.transform, "tiled": True}  # fmt: skip
    with rasterio.open(tmp_path / "tiled.tif", "w", **profile) as ds:
        ds.write(data)
    write_cog(tmp_path / "tiled.tif", tmp_path / "file.tif", "average", policy)  # type: ignore[arg-type]
    for name in ("array.tif", "file.tif"):
        with rasterio.open(tmp_path / name) as ds:
            np.testing.assert_array_equal(ds.read(), data)
            assert ds.compression.value.lower() == policy.compress  # type: ignore[attr-defined]
            assert ds.overviews(1) == [2]


def test_a_cog_that_does_not_validate_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rio_cogeo.cogeo

    monkeypatch.setattr(rio_cogeo.cogeo, "cog_validate", lambda path, **_: (False, ["no IFD"], []))
    with pytest.raises(RasterError, match="did not validate"):
        write_array_cog(np.zeros((300, 260), np.uint8), GRID, tmp_path / "x.tif", 255, "nearest")
    assert list(tmp_path.iterdir()) == []


def test_the_grid_of_a_dataset(tmp_path: Path) -> None:
    write_array_cog(np.zeros((300, 260), np.uint8), GRID, tmp_path / "x.tif", 255, "nearest")
    with rasterio.open(tmp_path / "x.tif") as ds:
        assert Grid.of(ds) == GRID and GRID.shape == (300, 260) == ds.shape


@pytest.mark.parametrize(
    ("shape", "factors"),
    [((200, 200), []), ((256, 256), []), ((257, 100), [2]), ((800, 800), [2, 4]),
     ((900, 1600), [2, 4, 8])],
)  # fmt: skip
def test_overview_levels_stop_when_one_tile_holds_the_overview(
    shape: tuple[int, int], factors: list[int]
) -> None:
    assert overview_factors(shape, 256) == factors
