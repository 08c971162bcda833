from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from slidewatch.bands import BAND_NAMES
from slidewatch.data.hdf5 import read_bands
from slidewatch.data.layout import discover
from slidewatch.errors import ConfigError
from slidewatch.synthetic import make_l4s_dataset


def test_known_statistics_match_the_files(tmp_path: Path) -> None:
    made = make_l4s_dataset(tmp_path / "ds", n=4, size=32, seed=3, landslide_fraction=0.08)
    refs = {r.id: r for r in discover(made.root)}
    images = []
    for rid, count in zip(made.ids, made.landslide_pixels, strict=True):
        with h5py.File(refs[rid].mask) as f:
            mask = f["mask"][()]
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
        assert int(mask.sum()) == count == round(0.08 * 32 * 32)
        with h5py.File(refs[rid].image) as f:
            images.append(f["img"][()])
    stack = np.stack(images)
    assert stack.shape == (4, 32, 32, 14)
    np.testing.assert_allclose(stack.min(axis=(0, 1, 2)), made.band_min)
    np.testing.assert_allclose(stack.max(axis=(0, 1, 2)), made.band_max)
    assert made.total_pixels == 4 * 32 * 32


def test_values_are_plausible_l4s_and_landslides_are_bright(tmp_path: Path) -> None:
    made = make_l4s_dataset(tmp_path / "ds", n=3, size=64, seed=5)
    ref = discover(made.root)[0]
    with h5py.File(ref.image) as f, h5py.File(ref.mask) as g:
        img, mask = f["img"][()], g["mask"][()].astype(bool)
    means = img[..., :12].mean(axis=(0, 1))
    assert np.all((means > 0.5) & (means < 2.5))
    assert img[..., 12].max() <= 4.5 and img[..., 13].max() <= 10
    assert img[mask, 3].mean() > img[~mask, 3].mean() + 0.3  # B4 brighter on bare soil
    assert img[mask, 12].mean() > img[~mask, 12].mean()  # steeper slopes


def test_seeded_and_band_subset(tmp_path: Path) -> None:
    a = make_l4s_dataset(tmp_path / "a", n=2, size=32, seed=9)
    b = make_l4s_dataset(tmp_path / "b", n=2, size=32, seed=9)
    assert a.band_max == b.band_max and a.landslide_pixels == b.landslide_pixels
    sub = make_l4s_dataset(tmp_path / "c", n=2, size=32, seed=9, bands="B4,B3,B2,B8")
    ref = discover(sub.root)[0]
    assert read_bands(ref.image) == ("B4", "B3", "B2", "B8")
    assert sub.band_max[0] == a.band_max[BAND_NAMES.index("B4")]


def test_unknown_layout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="flat, official, huggingface"):
        make_l4s_dataset(tmp_path, layout="zip")
