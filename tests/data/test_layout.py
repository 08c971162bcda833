from __future__ import annotations

from pathlib import Path

import pytest

from slidewatch.data.layout import LAYOUTS, PatchRef, detect_layout, discover, discover_many
from slidewatch.errors import DatasetError
from slidewatch.synthetic import make_l4s_dataset


@pytest.mark.parametrize("layout", ["flat", "official", "huggingface"])
def test_generator_layouts_are_detected_and_discovered(tmp_path: Path, layout: str) -> None:
    made = make_l4s_dataset(tmp_path / "ds", layout=layout, n=6, size=32)
    assert detect_layout(made.root) == layout
    refs = discover(made.root)
    assert sorted(r.id for r in refs) == sorted(made.ids)
    assert all(r.mask is not None and r.mask.is_file() for r in refs)
    assert all(r.mask.stem.split("_")[1] == r.id.split("_")[1] for r in refs if r.mask)
    assert {r.source for r in refs} == {"ds"}
    expected = {i: s for i, s in zip(made.ids, made.splits, strict=True)}
    assert {r.id: r.split for r in refs} == expected
    if layout != "flat":
        assert {r.split for r in refs} == {"train", "val", "test"}


def test_natural_order_and_key(tmp_path: Path) -> None:
    made = make_l4s_dataset(tmp_path / "ds", n=11, size=32)
    refs = discover(made.root, source="mine")
    assert [r.id for r in refs] == [f"image_{i}" for i in range(1, 12)]
    assert refs[0].key == "mine/image_1"


def test_images_without_masks_and_unlabeled_flat_folder(tmp_path: Path) -> None:
    made = make_l4s_dataset(tmp_path / "ds", n=3, size=32, with_masks=False)
    assert all(r.mask is None for r in discover(made.root))
    loose = tmp_path / "loose"
    loose.mkdir()
    for i, src in enumerate(sorted((made.root / "img").iterdir())):
        src.rename(loose / (f"extra_{i}.h5" if i == 0 else src.name))
    refs = discover(loose)
    assert detect_layout(loose) == "flat"
    assert sorted(r.id for r in refs) == ["extra_0", "image_2", "image_3"]
    assert all(r.mask is None for r in refs)


@pytest.mark.parametrize("make", ["empty", "missing", "masks_only"])
def test_unrecognised_folder_lists_layouts(tmp_path: Path, make: str) -> None:
    root = tmp_path / "x"
    if make != "missing":
        root.mkdir()
    if make == "masks_only":
        (root / "mask_1.h5").write_bytes(b"")
    with pytest.raises(DatasetError) as err:
        discover(root)
    assert str(root) in str(err.value)
    if make != "missing":
        assert all(name in str(err.value) for name in LAYOUTS)


def test_discover_many_keeps_sources_and_rejects_clashes(tmp_path: Path) -> None:
    a = make_l4s_dataset(tmp_path / "a", n=2, size=32)
    b = make_l4s_dataset(tmp_path / "b", layout="huggingface", n=3, size=32)
    refs = discover_many([a.root, b.root])
    assert [r.source for r in refs] == ["a"] * 2 + ["b"] * 3
    assert len({r.key for r in refs}) == 5
    named = discover_many([a.root, b.root], ["l4s", "peru"])
    assert {r.source for r in named} == {"l4s", "peru"}
    with pytest.raises(DatasetError, match="source name"):
        discover_many([a.root, a.root])
    with pytest.raises(DatasetError, match="one per folder"):
        discover_many([a.root], ["x", "y"])


def test_patchref_is_frozen() -> None:
    ref = PatchRef("image_1", Path("i.h5"), None, "s")
    with pytest.raises(AttributeError):
        ref.id = "other"  # type: ignore[misc]
