"""The synthetic area: georeferencing, bands, L4S scale, landslides on steep slopes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.bands import BAND_NAMES, l4s_to_raw
from slidewatch.data.hdf5 import read_image, read_mask
from slidewatch.synthetic.area import (
    fractal_noise,
    make_synthetic_area,
    make_synthetic_patches,
    slope_degrees,
)


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory):
    return make_synthetic_area(tmp_path_factory.mktemp("area"), height=512, width=384, seed=3)


def test_files_grid_and_bands(area) -> None:
    with rasterio.open(area.scene) as ds:
        assert (ds.count, ds.height, ds.width) == (14, 512, 384)
        assert ds.crs.to_epsg() == 32718 and ds.res == (10.0, 10.0)
        assert ds.descriptions == BAND_NAMES and ds.dtypes[0] == "float32"
        assert ds.block_shapes[0] == (256, 256)
        image = ds.read()
        transform = ds.transform
    with rasterio.open(area.labels) as ds:
        assert ds.dtypes[0] == "uint8" and ds.transform == transform and ds.crs.to_epsg() == 32718
        labels = ds.read(1)
    assert set(np.unique(labels)) == {0, 1}
    assert area.landslide_fraction == pytest.approx(labels.mean())
    assert 0.02 <= area.landslide_fraction <= 0.05
    assert area.bands == BAND_NAMES and area.shape == (512, 384)
    assert np.isfinite(image).all()


def test_values_are_in_l4s_scale_and_plausible(area) -> None:
    with rasterio.open(area.scene) as ds:
        image = ds.read()
    means = image.reshape(14, -1).mean(axis=1)
    assert np.all((means[:12] > 0.4) & (means[:12] < 2.5))
    raw = l4s_to_raw(image, BAND_NAMES, axis=0)
    slope, dem = raw[12], raw[13]
    assert slope.min() >= 0 and slope.max() < 90 and 10 < slope.mean() < 40
    assert dem.min() > 1500 and dem.max() < 5500 and image[13].max() <= 10


def test_landslides_are_steep_bare_soil(area) -> None:
    with rasterio.open(area.scene) as ds:
        raw = l4s_to_raw(ds.read(), BAND_NAMES, axis=0)
    with rasterio.open(area.labels) as ds:
        scar = ds.read(1).astype(bool)
    slope, red, nir = raw[12], raw[3], raw[7]
    assert slope[scar].mean() > slope.mean() + 3
    ndvi = (nir - red) / (nir + red)
    assert ndvi[scar].mean() < 0.2 < ndvi[~scar].mean()
    assert red[scar].mean() > 2 * red[~scar].mean()


def test_seeded_and_default_size_is_fast_enough_to_use(tmp_path: Path) -> None:
    a = make_synthetic_area(tmp_path / "a", height=128, width=128, seed=7)
    b = make_synthetic_area(tmp_path / "b", height=128, width=128, seed=7)
    c = make_synthetic_area(tmp_path / "c", height=128, width=128, seed=8)
    with rasterio.open(a.scene) as da, rasterio.open(b.scene) as db, rasterio.open(c.scene) as dc:
        assert np.array_equal(da.read(), db.read())
        assert not np.array_equal(da.read(), dc.read())


def test_slope_of_a_plane_and_noise_statistics() -> None:
    rows = np.arange(50, dtype=float)[:, None] * np.ones((1, 40))
    assert np.allclose(slope_degrees(rows * 10.0, pixel_m=10.0), 45.0)
    noise = fractal_noise(np.random.default_rng(0), (64, 48), beta=3.0)
    assert noise.shape == (64, 48) and abs(noise.mean()) < 1e-5 and noise.std() == pytest.approx(1)


def test_synthetic_patches_are_a_training_set(tmp_path: Path) -> None:
    res = make_synthetic_patches(tmp_path / "patches", n=5, seed=1)
    assert res.n_patches == 5 and res.bands == BAND_NAMES and res.scale == "none"
    masks = [read_mask(tmp_path / "patches" / "mask" / f"mask_{i}.h5") for i in range(1, 6)]
    assert sum(int(m.sum()) for m in masks) == res.landslide_pixels > 0
    image = read_image(tmp_path / "patches" / "img" / "image_1.h5")
    assert image.shape == (128, 128, 14) and image[..., 12].max() <= 4.5
    check = pytest.importorskip("slidewatch.data.check")
    report = check.check_dataset(tmp_path / "patches", progress=False)
    assert report.errors == 0, report.to_dict()
