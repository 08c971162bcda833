from __future__ import annotations

import json
from pathlib import Path

import pytest

from slidewatch.data.layout import discover, discover_many
from slidewatch.data.splits import official_split, random_split, read_split, write_split
from slidewatch.errors import ConfigError, DatasetError
from slidewatch.synthetic import GeneratedDataset, make_l4s_dataset


def test_random_split_is_seeded_disjoint_and_80_20(tmp_path: Path) -> None:
    made = make_l4s_dataset(tmp_path / "ds", n=20, size=32)
    refs = discover(made.root)
    train, val = random_split(refs, 0.2, seed=7)
    assert len(train) == 16 and len(val) == 4
    assert {r.key for r in train}.isdisjoint({r.key for r in val})
    assert {r.key for r in train} | {r.key for r in val} == {r.key for r in refs}
    again = random_split(list(reversed(refs)), 0.2, seed=7)
    assert [r.key for r in again[1]] == [r.key for r in val]
    other = random_split(refs, 0.2, seed=8)
    assert {r.key for r in other[1]} != {r.key for r in val}


def test_split_round_trip(
    tmp_path: Path, flat_dataset: GeneratedDataset, other_dataset: GeneratedDataset
) -> None:
    refs = discover_many([flat_dataset.root, other_dataset.root])
    train, val = random_split(refs, seed=1)
    path = write_split(tmp_path / "split.json", {"train": train, "val": val})
    payload = json.loads(path.read_text())
    assert payload["val"] == [r.key for r in val]
    back = read_split(path, refs)
    assert back == {"train": train, "val": val}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_read_split_errors(tmp_path: Path, flat_dataset: GeneratedDataset) -> None:
    refs = discover(flat_dataset.root)
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"train": ["elsewhere/image_1"]}))
    with pytest.raises(DatasetError, match="elsewhere/image_1"):
        read_split(path, refs)
    path.write_text("{broken")
    with pytest.raises(DatasetError, match=r"s\.json"):
        read_split(path, refs)
    with pytest.raises(DatasetError, match="not found"):
        read_split(tmp_path / "none.json", refs)


def test_official_split(other_dataset: GeneratedDataset, flat_dataset: GeneratedDataset) -> None:
    refs = discover(other_dataset.root)
    expected = [
        i for i, s in zip(other_dataset.ids, other_dataset.splits, strict=True) if s == "val"
    ]
    assert [r.id for r in official_split(refs, "val")] == expected
    with pytest.raises(DatasetError, match="random split"):
        official_split(discover(flat_dataset.root), "train")
    with pytest.raises(ConfigError):
        random_split(refs, 1.5)
