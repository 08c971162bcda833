from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from slidewatch.bands import BAND_NAMES
from slidewatch.data.dataset import PatchDataset, augment_pair
from slidewatch.data.hdf5 import read_image, read_mask
from slidewatch.data.layout import discover, discover_many
from slidewatch.data.normalization import Normalization, normalization_from_arrays
from slidewatch.errors import DatasetError
from slidewatch.synthetic import GeneratedDataset

from .conftest import which_variant

torch.set_num_threads(1)


def test_sample_contract(flat_dataset: GeneratedDataset) -> None:
    ds = PatchDataset(discover(flat_dataset.root))
    assert len(ds) == 6 and ds.bands == BAND_NAMES
    sample = ds[0]
    assert sample["image"].dtype == torch.float32 and sample["image"].shape == (14, 32, 32)
    assert sample["mask"].dtype == torch.int64 and sample["mask"].shape == (32, 32)
    assert sample["id"] == "image_1" and sample["source"] == "alpha"
    ref = ds.refs[0]
    np.testing.assert_array_equal(sample["image"].numpy(), read_image(ref.image).transpose(2, 0, 1))
    np.testing.assert_array_equal(sample["mask"].numpy(), read_mask(ref.mask))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("six10m", ("B2", "B3", "B4", "B8", "slope", "dem")),
        (["dem", "B4", "B3"], ("dem", "B4", "B3")),
        ("B8,B2", ("B8", "B2")),
    ],
)
def test_band_selection(flat_dataset: GeneratedDataset, spec: object, names: tuple) -> None:
    ds = PatchDataset(discover(flat_dataset.root), spec)  # type: ignore[arg-type]
    assert ds.bands == names
    full = read_image(ds.refs[2].image)
    expected = full[..., [BAND_NAMES.index(n) for n in names]].transpose(2, 0, 1)
    np.testing.assert_array_equal(ds[2]["image"].numpy(), expected)


def test_normalisation_is_applied_on_selected_bands(flat_dataset: GeneratedDataset) -> None:
    lo, hi = np.array(flat_dataset.band_min), np.array(flat_dataset.band_max)
    norm = normalization_from_arrays("minmax", BAND_NAMES, minimum=lo, maximum=hi)
    ds = PatchDataset(discover(flat_dataset.root), "six10m", norm)
    idx = [BAND_NAMES.index(b) for b in ds.bands]
    raw = read_image(ds.refs[1].image)[..., idx].transpose(2, 0, 1)
    expected = (raw - lo[idx, None, None]) / (hi - lo)[idx, None, None]
    np.testing.assert_allclose(ds[1]["image"].numpy(), expected, rtol=1e-5, atol=1e-6)
    images = torch.stack([ds[i]["image"] for i in range(len(ds))])
    assert float(images.min()) == pytest.approx(0.0, abs=1e-6)
    assert float(images.max()) == pytest.approx(1.0, abs=1e-6)
    none = PatchDataset(ds.refs, "six10m", Normalization.identity(BAND_NAMES))
    np.testing.assert_array_equal(none[1]["image"].numpy(), raw)


def test_combination_keeps_sources(
    flat_dataset: GeneratedDataset, other_dataset: GeneratedDataset
) -> None:
    refs = discover_many([flat_dataset.root, other_dataset.root])
    ds = PatchDataset(refs, "six10m")
    sources = [ds[i]["source"] for i in range(len(ds))]
    assert sources == ["alpha"] * 6 + ["beta"] * 5


def test_masks_required_unless_disabled(make_dataset) -> None:  # type: ignore[no-untyped-def]
    made = make_dataset(with_masks=False)
    refs = discover(made.root)
    with pytest.raises(DatasetError, match="require_masks=False"):
        PatchDataset(refs)
    sample = PatchDataset(refs, require_masks=False)[0]
    assert "mask" not in sample and sample["image"].shape == (14, 32, 32)


def test_band_missing_from_file_names_file(make_dataset) -> None:  # type: ignore[no-untyped-def]
    made = make_dataset(bands="rgbn")
    ds = PatchDataset(discover(made.root), "B4,B8")
    assert ds[0]["image"].shape == (2, 32, 32)
    with pytest.raises(DatasetError, match=r"image_1\.h5.*holds B4, B3, B2, B8"):
        PatchDataset(discover(made.root), "six10m")[0]


def test_dataloader_with_two_workers(flat_dataset: GeneratedDataset) -> None:
    ds = PatchDataset(discover(flat_dataset.root), "six10m")
    loader = DataLoader(ds, batch_size=4, num_workers=2)
    batches = list(loader)
    assert [b["image"].shape[0] for b in batches] == [4, 2]
    assert batches[0]["image"].shape == (4, 6, 32, 32) and batches[0]["mask"].dtype == torch.int64
    assert [i for b in batches for i in b["id"]] == list(flat_dataset.ids)


def test_augment_moves_image_and_mask_together(flat_dataset: GeneratedDataset) -> None:
    image = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    mask = (image[0] % 3 == 0).astype(np.uint8)
    for flips in [(1, 0, 0), (0, 1, 1), (1, 1, 3)]:
        img2, mask2 = augment_pair(image, mask, flips)
        assert mask2 is not None
        np.testing.assert_array_equal(mask2, (img2[0] % 3 == 0).astype(np.uint8))
    # Each draw is one of the 8 flips/turns, mask moved with the image, and the draws vary
    # (an augmentation that did nothing would give variant 0 every time).
    torch.manual_seed(0)
    ds = PatchDataset(discover(flat_dataset.root), "B4", augment=True)
    plain = PatchDataset(discover(flat_dataset.root), "B4")[0]
    seen = {
        which_variant(
            s["image"].numpy(), s["mask"].numpy(), plain["image"].numpy(), plain["mask"].numpy()
        )
        for s in (ds[0] for _ in range(32))
    }
    assert len(seen) >= 5 and seen != {0}


def test_corrupt_file_raises_dataset_error(tmp_path: Path, make_dataset) -> None:  # type: ignore[no-untyped-def]
    made = make_dataset()
    ref = discover(made.root)[0]
    ref.image.write_bytes(b"not hdf5 at all")
    with pytest.raises(DatasetError, match=r"image_1\.h5"):
        PatchDataset([ref])[0]


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_real_format_file_raises_dataset_error(make_dataset, keep: float) -> None:  # type: ignore[no-untyped-def]
    ref = discover(make_dataset().root)[0]
    data = ref.image.read_bytes()
    ref.image.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DatasetError, match=r"image_1\.h5.*re-export"):
        PatchDataset([ref])[0]
