from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from slidewatch.bands import BAND_NAMES
from slidewatch.data.hdf5 import read_bands, read_image, read_mask, write_image, write_mask
from slidewatch.errors import DatasetError


def test_round_trip_full_and_subset(tmp_path: Path) -> None:
    img = np.random.default_rng(0).random((8, 8, 14))
    write_image(tmp_path / "image_1.h5", img)
    assert read_bands(tmp_path / "image_1.h5") == BAND_NAMES
    np.testing.assert_allclose(
        read_image(tmp_path / "image_1.h5", [3, 2]), img[..., [3, 2]], rtol=1e-6
    )
    write_image(tmp_path / "image_2.h5", img[..., :4], bands=["B4", "B3", "B2", "B8"])
    assert read_bands(tmp_path / "image_2.h5") == ("B4", "B3", "B2", "B8")
    write_mask(tmp_path / "mask_1.h5", np.eye(8))
    m = read_mask(tmp_path / "mask_1.h5")
    assert m.dtype == np.uint8 and m.sum() == 8
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_and_missing_key(tmp_path: Path) -> None:
    bad = tmp_path / "image_9.h5"
    bad.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(DatasetError, match=r"image_9\.h5"):
        read_image(bad)
    with h5py.File(tmp_path / "image_8.h5", "w") as f:
        f["data"] = np.zeros((2, 2, 14))
    with pytest.raises(DatasetError, match="no 'img' dataset"):
        read_image(tmp_path / "image_8.h5")


def test_unlabelled_band_count_needs_attribute(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "image_3.h5", "w") as f:
        f["img"] = np.zeros((4, 4, 6))
    with pytest.raises(DatasetError, match="6 bands"):
        read_bands(tmp_path / "image_3.h5")


def test_write_rejects_shape_mismatch(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not match"):
        write_image(tmp_path / "x.h5", np.zeros((4, 4, 3)), bands=["B4", "B3"])
    assert not (tmp_path / "x.h5").exists()
