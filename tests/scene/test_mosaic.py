"""The scene room: tiles mosaicked per window, folders, band files and wrong paths."""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
import rasterio.windows
from rasterio.merge import merge
from rasterio.transform import from_origin

from slidewatch.bands import BAND_SETS, scale_vector
from slidewatch.errors import BandError, RasterError
from slidewatch.scene import Mosaic, SceneReader, open_scene

RGBN = BAND_SETS["rgbn"]
X0, Y0 = 400_000.0, 2_500_000.0


def write_tile(
    path: Path,
    data: np.ndarray,
    col: int = 0,
    row: int = 0,
    *,
    descriptions: tuple[str, ...] | None = None,
    nodata: float | None = None,
    res: float = 10.0,
) -> Path:
    """A GeoTIFF whose top-left pixel is (``row``, ``col``) of a 10 m grid at (X0, Y0)."""
    profile = {
        "driver": "GTiff", "width": data.shape[2], "height": data.shape[1],
        "count": data.shape[0], "dtype": str(data.dtype), "crs": "EPSG:32646",
        "nodata": nodata, "transform": from_origin(X0 + 10 * col, Y0 - 10 * row, res, res),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        if descriptions:
            ds.descriptions = descriptions
    return path


def values(height: int, width: int, count: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, (count, height, width)).astype(np.float32)


@pytest.fixture
def tiles(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 60×80 four-band scene cut into four overlapping undescribed tiles in a folder."""
    data = values(60, 80)
    folder = tmp_path / "tiles"
    folder.mkdir()
    for name, r, c in (("a", 0, 0), ("b", 0, 40), ("c", 30, 0), ("d", 30, 40)):
        write_tile(folder / f"{name}.tif", data[:, r : r + 30, c : c + 40].copy(), c, r)
    write_tile(folder / "ab_overlap.tif", data[:, 10:40, 20:60].copy(), 20, 10)
    return folder, data


def test_a_folder_of_multiband_tiles_is_one_scene(tiles: tuple[Path, np.ndarray]) -> None:
    folder, data = tiles
    scene = open_scene([folder], RGBN, band_order="B4,B3,B2,B8", scale="none")
    assert (scene.height, scene.width) == (60, 80) and len(scene.groups) == 1
    assert len(scene.paths) == 5
    with SceneReader(scene) as reader:
        image, valid = reader.read(0, 60)
        strip, _ = reader.read(25, 10, 35, 20)  # a window across four tiles
    assert valid.all()
    np.testing.assert_array_equal(image, data)
    np.testing.assert_array_equal(strip, data[:, 25:35, 35:55])


def test_several_tile_files_too_and_band_order_names_the_tile_bands(
    tiles: tuple[Path, np.ndarray],
) -> None:
    folder, _ = tiles
    files = sorted(folder.glob("*.tif"))
    scene = open_scene(files, RGBN, band_order="red,green,blue,nir", scale="none")
    assert scene.bands == RGBN and scene.sources == ((0, 1), (0, 2), (0, 3), (0, 4))
    with pytest.raises(BandError, match=r"names 3 bands .* has 4"):
        open_scene(files, RGBN, band_order="B4,B3,B2", scale="none")


def test_gaps_between_tiles_are_invalid_and_nodata_is_honoured(tmp_path: Path) -> None:
    data = values(20, 50)
    a = write_tile(tmp_path / "a.tif", data[:, :, :20].copy(), 0, 0, descriptions=RGBN)
    b = write_tile(tmp_path / "b.tif", data[:, :, 30:].copy(), 30, 0, descriptions=RGBN)
    scene = open_scene([a, b], RGBN, scale="none")
    with SceneReader(scene) as reader:
        image, valid = reader.read(0, 20)
    assert scene.width == 50 and valid[:, :20].all() and valid[:, 30:].all()
    assert not valid[:, 20:30].any() and (image[:, :, 20:30] == 0).all()
    holed = data.copy()
    holed[:, :5] = -9999.0
    c = write_tile(tmp_path / "c.tif", holed[:, :, :20].copy(), 0, 0, nodata=-9999.0)
    d = write_tile(tmp_path / "d.tif", holed[:, :, 20:].copy(), 20, 0, nodata=-9999.0)
    scene = open_scene([c, d], RGBN, band_order="rgbn", scale="none")
    with SceneReader(scene) as reader:
        _, valid = reader.read(0, 20)
    assert not valid[:5].any() and valid[5:].all()


def test_mosaic_decimated_read_matches_one_file(
    tiles: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    folder, data = tiles
    with rasterio.open(write_tile(tmp_path / "whole.tif", data)) as whole:
        expected = whole.read(1, out_shape=(30, 40))
    with Mosaic(sorted(folder.glob("*.tif"))) as mosaic:
        small = mosaic.read(1, out_shape=(30, 40))
        assert mosaic.bounds.right == pytest.approx(X0 + 800)
    np.testing.assert_array_equal(small, expected)


def test_band_files_named_like_sentinel2_products_at_mixed_resolutions(tmp_path: Path) -> None:
    paths = []
    for k, band in enumerate(("B04", "B03", "B02", "B08")):
        res, size = (10.0, 40) if k < 2 else (20.0, 20)
        data = np.full((1, size, size), k + 1.0, np.float32)
        paths.append(write_tile(tmp_path / f"T45QYF_20230101_{band}_10m.tif", data, res=res))
    scene = open_scene(paths, RGBN, scale="none")
    assert len(scene.groups) == 4 and (scene.height, scene.width) == (40, 40)
    with SceneReader(scene) as reader:
        image, _ = reader.read(0, 40)
    np.testing.assert_allclose(image.mean(axis=(1, 2)), [1, 2, 3, 4])


def test_unknown_descriptions_are_named_in_the_error(tmp_path: Path) -> None:
    path = write_tile(tmp_path / "s.tif", values(10, 10), descriptions=("scene_sub12", "web1",
                      "B3", "B2"))  # fmt: skip
    with pytest.raises(BandError, match=r"missing: B4, B8.*'scene_sub12', 'web1'.* name no band"):
        open_scene([path], RGBN, scale="none")


def test_a_folder_without_rasters_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(RasterError, match=r"empty is a folder and holds no \.tif"):
        open_scene([tmp_path / "empty"], RGBN)


def test_an_hdf5_patch_is_named_without_rasterio_warnings(tmp_path: Path) -> None:
    patch = tmp_path / "image_1.h5"
    with h5py.File(patch, "w") as f:
        f["img"] = np.zeros((8, 8, 14), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RasterError, match=r"HDF5 file .*L4S patch") as info:
            open_scene([patch], RGBN)
    assert "gdal_edit" not in str(info.value) and "slidewatch evaluate" in str(info.value)
    folder = tmp_path / "patches" / "img"
    folder.mkdir(parents=True)
    patch.rename(folder / "image_1.h5")
    with pytest.raises(RasterError, match="holds HDF5 files"):
        open_scene([tmp_path / "patches"], RGBN)


def test_chittagong_tiles_are_one_scene(shared_data: Path) -> None:
    folder = shared_data / "s2-chittagong" / "images"
    scene = open_scene([folder], RGBN, band_order="red,green,blue,nir")
    assert (scene.height, scene.width) == (2048, 1152) and scene.to_l4s
    files = sorted(folder.glob("*.tif"))
    datasets = [rasterio.open(p) for p in files]
    try:
        whole, _ = merge(datasets)
    finally:
        for ds in datasets:
            ds.close()
    with SceneReader(scene, dtype=np.float64) as reader:
        image, valid = reader.read(900, 128, 300, 256)
    divisors = scale_vector(RGBN)[:, None, None]
    expected = whole[:, 900:1028, 300:556] / divisors
    np.testing.assert_allclose(image[:, valid], expected[:, valid])
    assert valid.mean() > 0.5  # the tiles leave gaps: not every window is covered


def test_a_zero_in_one_band_of_a_tile_stays_a_value(tmp_path: Path) -> None:
    data = values(10, 20)
    data[0, 2, 3] = 0.0  # one band only: a real value
    data[:, 5, 5] = 0.0  # every band: Sentinel-2 fill
    a = write_tile(tmp_path / "a.tif", data[:, :, :10].copy(), 0, 0)
    b = write_tile(tmp_path / "b.tif", data[:, :, 10:].copy(), 10, 0)
    scene = open_scene([a, b], RGBN, band_order="rgbn", scale="none")
    with SceneReader(scene) as reader:
        _, valid = reader.read(0, 10)
    assert valid[2, 3] and not valid[5, 5] and valid.sum() == 199


def test_tiled_band_files_at_a_coarser_resolution_are_regridded(tmp_path: Path) -> None:
    rgb = write_tile(tmp_path / "rgb.tif", values(40, 40, 3), descriptions=("B4", "B3", "B2"))
    west = np.full((1, 20, 10), 1.0, np.float32)  # 20 m pixels: 200 m × 400 m each
    east = np.full((1, 20, 10), 3.0, np.float32)
    a = write_tile(tmp_path / "B8_a.tif", west, descriptions=("nir",), res=20.0)
    b = write_tile(tmp_path / "B8_b.tif", east, 20, descriptions=("nir",), res=20.0)
    scene = open_scene([rgb, a, b], RGBN, scale="none")
    assert [len(g) for g in scene.groups] == [1, 2] and abs(scene.transform.a) == 10.0
    with SceneReader(scene) as reader:
        image, valid = reader.read(0, 40)
    assert valid.all()
    np.testing.assert_allclose(image[3, :, :18], 1.0)
    np.testing.assert_allclose(image[3, :, 22:], 3.0)


def test_a_window_no_tile_touches_reads_masked_zeros(tmp_path: Path) -> None:
    a = write_tile(tmp_path / "a.tif", values(10, 10), 0, 0)
    b = write_tile(tmp_path / "b.tif", values(10, 10), 30, 0)
    with Mosaic([a, b]) as mosaic:
        gap = mosaic.read(window=rasterio.windows.Window(12, 0, 16, 10), masked=True)
    assert gap.mask.all() and (np.ma.getdata(gap) == 0).all()  # not uninitialised memory
