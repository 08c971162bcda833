"""Opening scenes: band matching, scaling, multi-file stacks, and the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from slidewatch.bands import band_from_description, l4s_to_raw
from slidewatch.errors import BandError, RasterError
from slidewatch.scene import SceneReader, open_scene

from .conftest import RGBN, scene_array, write_scene


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("B04", "B4"),
        ("b8", "B8"),
        ("Red", "B4"),
        ("NIR", "B8"),
        ("S2_B12", "B12"),
        ("slope", "slope"),
        ("DEM", "dem"),
        ("alpha", None),
    ],
)
def test_band_from_description(text: str, band: str | None) -> None:
    assert band_from_description(text) == band


def test_bands_matched_by_description_in_any_order(tmp_path: Path) -> None:
    data = scene_array(40, 50)
    path = write_scene(tmp_path / "s.tif", data, ("nir", "blue", "green", "red"))
    scene = open_scene([path], RGBN, scale="none")
    assert scene.sources == ((0, 4), (0, 3), (0, 2), (0, 1))
    with SceneReader(scene) as reader:
        image, valid = reader.read(0, 40)
    np.testing.assert_array_equal(image[0], data[3])  # B4 is the file's 4th band
    assert valid.all()


def test_band_order_overrides_and_missing_bands_list_both(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "s.tif", scene_array(40, 50), None)
    with pytest.raises(BandError, match=r"needs bands B4, B3, B2, B8.*missing: B4, B3, B2, B8"):
        open_scene([path], RGBN, scale="none")
    scene = open_scene([path], RGBN, band_order="B2,B3,B4,B8", scale="none")
    assert scene.sources[0] == (0, 3)
    with pytest.raises(BandError, match="--band-order names 2 bands"):
        open_scene([path], RGBN, band_order="B2,B3", scale="none")


def test_scaling_explicit_tagged_and_guessed(tmp_path: Path) -> None:
    l4s = scene_array(40, 50)
    raw = l4s_to_raw(l4s, RGBN)
    raw_path = write_scene(tmp_path / "raw.tif", raw)
    assert open_scene([raw_path], RGBN).to_l4s  # guessed from the values
    assert not open_scene([raw_path], RGBN, scale="none").to_l4s
    l4s_path = write_scene(tmp_path / "l4s.tif", l4s)
    assert not open_scene([l4s_path], RGBN).to_l4s
    tagged = write_scene(tmp_path / "tag.tif", l4s, tags={"SLIDEWATCH_SCALE": "raw"})
    assert open_scene([tagged], RGBN).to_l4s
    with SceneReader(open_scene([raw_path], RGBN, scale="l4s")) as reader:
        image, _ = reader.read(0, 40)
    np.testing.assert_allclose(image, l4s, rtol=1e-5)


def test_nodata_value_and_nan_are_invalid(tmp_path: Path) -> None:
    data = scene_array(40, 50)
    data[:, :5, :] = -9999.0
    data[1, 20, 20] = np.nan
    path = write_scene(tmp_path / "s.tif", data, nodata=-9999.0)
    with SceneReader(open_scene([path], RGBN, scale="none")) as reader:
        image, valid = reader.read(0, 40)
    assert not valid[:5].any() and not valid[20, 20] and valid[5:20].all()
    assert np.isfinite(image).all() and (image[:, :5] == 0).all()


def test_single_band_files_of_different_resolutions(tmp_path: Path) -> None:
    paths = []
    for k, band in enumerate(RGBN):
        res = 10.0 if k < 2 else 20.0
        size = 40 if k < 2 else 20
        profile = {
            "driver": "GTiff",
            "width": size,
            "height": size,
            "count": 1,
            "dtype": "float32",
            "crs": "EPSG:32646",
            "transform": from_origin(400000.0, 2500000.0, res, res),
        }
        path = tmp_path / f"T46_{band}.tif"
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(np.full((1, size, size), k + 1.0, np.float32))
        paths.append(path)
    scene = open_scene(paths, RGBN, scale="none")
    assert (scene.height, scene.width, abs(scene.transform.a)) == (40, 40, 10.0)
    with SceneReader(scene) as reader:
        image, valid = reader.read(0, 40)
    assert image.shape == (4, 40, 40) and valid.all()
    np.testing.assert_allclose(image.mean(axis=(1, 2)), [1, 2, 3, 4])


def test_unreadable_and_crs_less_rasters(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    with pytest.raises(RasterError, match=r"junk.tif: cannot read"):
        open_scene([junk], RGBN)
    no_crs = write_scene(tmp_path / "nocrs.tif", scene_array(20, 20), crs=None)
    with pytest.raises(RasterError, match="has no CRS"):
        open_scene([no_crs], RGBN)


def test_zero_in_every_band_is_nodata_unless_a_nodata_value_is_declared(tmp_path: Path) -> None:
    data = scene_array(40, 50)
    data[:, :4, :] = 0.0  # Sentinel-2's fill, in every band
    data[0, 10, 10] = 0.0  # 0 in one band only: a real value
    for nodata, fill_valid in ((None, False), (-9999.0, True)):
        path = write_scene(tmp_path / f"s{nodata}.tif", data, nodata=nodata)
        with SceneReader(open_scene([path], RGBN, scale="none")) as reader:
            _, valid = reader.read(0, 40)
        assert valid[:4].any() == fill_valid and valid[4:].all()
