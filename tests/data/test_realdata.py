"""Real L4S patches from ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from slidewatch.data.cache import CachedPatchDataset, build_cache
from slidewatch.data.check import check_dataset
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.layout import detect_layout, discover, discover_many
from slidewatch.data.stats import compute_normalization, table1

pytestmark = pytest.mark.realdata
REAL_IDS = [1, 3, 16, 27, 28, 38, 40, 45, 72, 253, 300, 512, 525, 600, 800]


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Path:
    return shared_data / "l4s-real"


def test_every_real_file_reads(real: Path) -> None:
    refs = discover(real)
    assert detect_layout(real) == "flat"
    assert [r.id for r in refs] == [f"image_{n}" for n in REAL_IDS]
    ds = PatchDataset(refs, "all14")
    for i, ref in enumerate(refs):
        sample = ds[i]
        with h5py.File(ref.image) as f, h5py.File(ref.mask) as g:  # type: ignore[arg-type]
            img, mask = f["img"][()], g["mask"][()]
        np.testing.assert_allclose(sample["image"].numpy(), img.transpose(2, 0, 1), rtol=1e-6)
        assert torch.equal(sample["mask"], torch.from_numpy(mask.astype(np.int64)))


def test_real_data_checks_clean(real: Path, shared_data: Path) -> None:
    report = check_dataset(real, progress=False)
    assert report.ok and not report.issues and report.files == 30
    unlabeled = check_dataset(shared_data / "l4s-real-unlabeled", progress=False)
    assert unlabeled.ok and not unlabeled.issues and unlabeled.patches == 18 and unlabeled.notes


def test_real_stats_equal_independent_h5py(real: Path, shared_data: Path) -> None:
    masks = [h5py.File(real / "mask" / f"mask_{n}.h5")["mask"][()] for n in REAL_IDS]
    ones = sum(int((m == 1).sum()) for m in masks)
    total = sum(m.size for m in masks)
    refs = discover_many([real, shared_data / "l4s-real-unlabeled"])
    rows = table1(refs)
    assert rows[0].source == "l4s-real" and rows[0].patches == 15
    assert rows[0].landslide_pixels == ones and rows[0].total_pixels == total
    assert rows[0].landslide_km2 == pytest.approx(ones * 1e-4)
    assert rows[0].landslide_percent == pytest.approx(100 * ones / total)
    assert rows[1].patches == 18 and rows[1].labeled_patches == 0
    assert rows[2].patches == 33 and rows[2].landslide_pixels == ones
    images = np.stack([h5py.File(real / "img" / f"image_{n}.h5")["img"][()] for n in REAL_IDS])
    norm = compute_normalization(discover(real), "all14")
    np.testing.assert_allclose(norm.offset, images.min(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(
        np.add(norm.offset, norm.scale), images.max(axis=(0, 1, 2)), rtol=1e-6
    )


def test_real_cache_equals_files(real: Path, tmp_path: Path) -> None:
    refs = discover(real)
    cache = build_cache(refs, tmp_path / "cache", progress=False)
    norm = compute_normalization(refs, "six10m")
    per_file, cached = PatchDataset(refs, "six10m", norm), CachedPatchDataset(cache, "six10m", norm)
    for i in (0, 7, 14):
        torch.testing.assert_close(cached[i]["image"], per_file[i]["image"], rtol=1e-5, atol=1e-6)
