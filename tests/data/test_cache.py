from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from slidewatch.data.cache import CachedPatchDataset, build_cache, cache_refs, is_cache
from slidewatch.data.cached_dataset import collate_patches
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.layout import discover, discover_many
from slidewatch.data.stats import compute_normalization
from slidewatch.errors import DatasetError
from slidewatch.synthetic import GeneratedDataset

from .conftest import which_variant

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def combined(
    flat_dataset: GeneratedDataset,
    other_dataset: GeneratedDataset,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list, Path]:
    refs = discover_many([flat_dataset.root, other_dataset.root])
    return refs, build_cache(refs, tmp_path_factory.mktemp("c") / "cache", progress=False)


@pytest.mark.parametrize("bands", ["all14", "six10m", "dem,B4"])
def test_cache_equals_per_file_reading(combined: tuple[list, Path], bands: str) -> None:
    refs, cache = combined
    norm = compute_normalization(refs[:6], bands)
    per_file = PatchDataset(refs, bands, norm)
    cached = CachedPatchDataset(cache, bands, norm)
    assert len(cached) == len(per_file) == 11 and cached.bands == per_file.bands
    for i in (0, 5, 10):
        a, b = per_file[i], cached[i]
        assert (a["id"], a["source"]) == (b["id"], b["source"])
        assert b["image"].dtype == torch.float32 and b["mask"].dtype == torch.int64
        torch.testing.assert_close(b["image"], a["image"], rtol=1e-5, atol=1e-6)
        assert torch.equal(a["mask"], b["mask"])


def test_index_refs_keys_and_batches(combined: tuple[list, Path]) -> None:
    refs, cache = combined
    assert is_cache(cache) and not is_cache(cache.parent)
    assert cache_refs(cache) == refs
    index = json.loads((cache / "index.json").read_text())
    assert index["sources"][0] == "alpha" and index["bands"][-1] == "dem"
    keys = [refs[7].key, refs[2].key]
    sub = CachedPatchDataset(cache, "six10m", keys=keys)
    assert [sub[i]["id"] for i in range(2)] == [refs[7].id, refs[2].id]
    batch = collate_patches(sub.__getitems__([0, 1]))
    assert batch["image"].shape == (2, 6, 32, 32) and batch["id"] == [refs[7].id, refs[2].id]
    with pytest.raises(DatasetError, match="nowhere/x"):
        CachedPatchDataset(cache, keys=["nowhere/x"])
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("collate", [None, collate_patches])
def test_loader_default_and_fast_collate_agree(combined: tuple[list, Path], collate) -> None:  # type: ignore[no-untyped-def]
    refs, cache = combined
    norm = compute_normalization(refs, "six10m")
    expected = next(iter(DataLoader(PatchDataset(refs, "six10m", norm), batch_size=4)))
    got = next(
        iter(
            DataLoader(CachedPatchDataset(cache, "six10m", norm), batch_size=4, collate_fn=collate)
        )
    )
    torch.testing.assert_close(got["image"], expected["image"], rtol=1e-5, atol=1e-6)
    assert torch.equal(got["mask"], expected["mask"]) and got["id"] == expected["id"]


def test_workers_and_float16(combined: tuple[list, Path], tmp_path: Path) -> None:
    refs, cache = combined
    ds = CachedPatchDataset(cache, "six10m")
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_patches)
    ids = [i for b in loader for i in b["id"]]
    assert ids == [r.id for r in refs]
    half = build_cache(refs, tmp_path / "half", dtype="float16", progress=False)
    assert np.load(half / "images.npy", mmap_mode="r").dtype == np.float16
    torch.testing.assert_close(
        CachedPatchDataset(half)[3]["image"], PatchDataset(refs)[3]["image"], rtol=1e-3, atol=1e-3
    )


def test_unlabeled_cache_and_augment(make_dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = make_dataset(with_masks=False)
    cache = build_cache(discover(made.root), tmp_path / "c", progress=False)
    sample = CachedPatchDataset(cache)[0]
    assert "mask" not in sample
    batch = collate_patches(CachedPatchDataset(cache).__getitems__([0, 1]))
    assert "mask" not in batch and batch["image"].shape == (2, 14, 32, 32)
    torch.manual_seed(1)
    aug = CachedPatchDataset(cache, "B4", augment=True)
    plain = CachedPatchDataset(cache, "B4")[0]["image"].numpy()
    images = [aug[0]["image"].numpy() for _ in range(32)]
    seen = {which_variant(x, x[0], plain, plain[0]) for x in images}  # unlabelled: image only
    assert len(seen) >= 5 and seen != {0}


def test_augment_moves_cached_images_and_masks_together(  # type: ignore[no-untyped-def]
    make_dataset, tmp_path: Path
) -> None:
    made = make_dataset(landslide_fraction=0.2)
    cache = build_cache(discover(made.root), tmp_path / "c", progress=False)
    plain = CachedPatchDataset(cache, "B4")[0]
    aug = CachedPatchDataset(cache, "B4", augment=True)
    torch.manual_seed(2)
    seen = set()
    for _ in range(32):
        batch = collate_patches(aug.__getitems__([0]))  # the batched path training uses
        seen.add(
            which_variant(
                batch["image"][0].numpy(),
                batch["mask"][0].numpy(),
                plain["image"].numpy(),
                plain["mask"].numpy(),
            )
        )
    assert len(seen) >= 5


def test_not_a_cache_and_mixed_bands(make_dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatasetError, match="slidewatch data cache"):
        CachedPatchDataset(tmp_path)
    a = discover(make_dataset("a").root)
    b = discover(make_dataset("b", bands="rgbn").root)
    with pytest.raises(DatasetError, match="same bands"):
        build_cache(a + b, tmp_path / "mixed", progress=False)
    assert not is_cache(tmp_path / "mixed")
    assert not list((tmp_path / "mixed").glob("*.npy"))


def test_a_cache_written_with_source_id_keys_still_serves_split_keys(
    other_dataset: GeneratedDataset, tmp_path: Path
) -> None:
    refs = discover(other_dataset.root)  # official layout: keys name the split
    cache = build_cache(refs, tmp_path / "cache")
    index = json.loads((cache / "index.json").read_text())
    index["keys"] = [r.legacy_key for r in refs]  # as caches were written before 0.2
    (cache / "index.json").write_text(json.dumps(index))
    dataset = CachedPatchDataset(cache, "all14", keys=[refs[-1].key])
    assert len(dataset) == 1 and dataset.ids == [refs[-1].id]
