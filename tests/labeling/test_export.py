"""Export of the done patches as a clean flat dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slidewatch.data.check import check_dataset
from slidewatch.data.hdf5 import read_mask
from slidewatch.data.layout import default_mask_path, discover
from slidewatch.errors import DatasetError
from slidewatch.labeling.export import export_labeled
from slidewatch.labeling.workspace import Workspace
from slidewatch.synthetic import make_l4s_dataset


def label(ws: Workspace, key: str, value: int, action: str = "save") -> None:
    info = ws.patch(key)
    mask = np.full((info.height, info.width), value, dtype=np.uint8)
    mask[0, 0] = 1 - value
    states = ws.store.states()
    version = states[key].version if key in states else 0
    ws.save(key, mask, version, action, "ana", 10.0, False)


def test_only_done_patches_are_exported_in_the_flat_layout(generated: Path, tmp_path: Path) -> None:
    ws = Workspace(generated)
    label(ws, "img/image_2", 1)
    label(ws, "img/image_4", 0)
    label(ws, "img/image_3", 1, action="draft")
    ws.save("img/image_1", None, 0, "skip", "ana", 3.0, False)
    result = export_labeled(generated, tmp_path / "out")
    assert (result.patches, result.left_out) == (2, 2)
    refs = discover(tmp_path / "out")
    assert [r.id for r in refs] == ["image_2", "image_4"]
    assert all(r.mask is not None for r in refs)
    assert read_mask(tmp_path / "out" / "mask" / "mask_2.h5").sum() == 32 * 32 - 1
    assert (tmp_path / "out" / "img" / "image_2.h5").read_bytes() == (
        generated / "img" / "image_2.h5"
    ).read_bytes()
    log = (tmp_path / "out" / "labeling-log.jsonl").read_text().splitlines()
    assert len(log) == 4
    mapping = json.loads((tmp_path / "out" / "labeling.json").read_text())["patches"]
    assert mapping == {"image_2": "img/image_2", "image_4": "img/image_4"}
    assert check_dataset(tmp_path / "out").ok


def test_official_layout_duplicates_are_renumbered(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "off", layout="official", n=6, size=16, seed=1).root
    result = export_labeled(root, tmp_path / "out")  # every patch came with a mask: done
    assert result.patches == 6
    mapping = json.loads((tmp_path / "out" / "labeling.json").read_text())["patches"]
    assert len(set(mapping.values())) == 6 and all("Data/img/" in k for k in mapping.values())


def test_nothing_done_or_a_used_out_folder_is_an_error(generated: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no finished patch"):
        export_labeled(generated, tmp_path / "out")
    label(Workspace(generated), "img/image_1", 1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        export_labeled(generated, tmp_path / "busy")


@pytest.mark.parametrize("layout", ["flat", "official", "huggingface"])
def test_default_mask_path_is_where_discover_looks(tmp_path: Path, layout: str) -> None:
    root = make_l4s_dataset(tmp_path / layout, layout=layout, n=3, size=8, seed=0).root
    for ref in discover(root):
        assert default_mask_path(root, ref.image) == ref.mask


def test_default_mask_path_beside_images_in_a_bare_folder(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "d", n=2, size=8, seed=0).root
    for name in ("img", "mask"):
        for f in (root / name).iterdir():
            f.rename(root / f.name)
        (root / name).rmdir()
    for ref in discover(root):
        assert ref.mask is not None and default_mask_path(root, ref.image) == ref.mask
