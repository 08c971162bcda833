"""Issue 21, item 2: leaking splits. ``data check`` names identical images within and across
folders (an error when their masks disagree); the random split keeps copies and overlapping
patches apart from each other's side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.data.check import check_datasets
from slidewatch.data.hdf5 import read_mask, write_mask
from slidewatch.data.layout import discover, discover_many
from slidewatch.data.leakage import footprints, image_hashes, leak_groups
from slidewatch.data.splits import split_apart
from slidewatch.synthetic import make_l4s_dataset


@pytest.fixture
def two_sources(tmp_path: Path) -> tuple[Path, Path]:
    """``alpha`` (6 patches) and ``beta`` (4 patches) holding copies of three alpha patches:
    image_1 relabelled (its mask changed), image_2 and image_3 with the same masks."""
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    make_l4s_dataset(alpha, n=6, size=32, seed=1)
    make_l4s_dataset(beta, n=4, size=32, seed=2)
    for n, copy in ((1, 11), (2, 12), (3, 13)):
        shutil.copy(alpha / "img" / f"image_{n}.h5", beta / "img" / f"image_{copy}.h5")
        shutil.copy(alpha / "mask" / f"mask_{n}.h5", beta / "mask" / f"mask_{copy}.h5")
    relabelled = read_mask(beta / "mask" / "mask_11.h5")
    relabelled[:4] = 1 - relabelled[:4]
    write_mask(beta / "mask" / "mask_11.h5", relabelled)
    return alpha, beta


def test_data_check_names_copies_across_folders_and_fails_on_disagreeing_masks(
    two_sources: tuple[Path, Path],
) -> None:
    alpha, beta = two_sources
    result = CliRunner().invoke(cli, ["data", "check", str(alpha), str(beta)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    errors = [line for line in lines if "  error  " in line]
    assert len(errors) == 2  # image_1 and its relabelled copy image_11
    assert all("masks disagree in 128 pixels" in line for line in errors)
    assert any(line.startswith(str(beta / "img" / "image_11.h5")) for line in errors)
    copies = [line for line in lines if "identical image to" in line and "warning" in line]
    assert len(copies) == 4  # image_2, image_3 and their copies
    assert f"{alpha}: 6 patches" in result.output and f"{beta}: 7 patches" in result.output


def test_data_check_finds_copies_within_one_folder(tmp_path: Path) -> None:
    make_l4s_dataset(tmp_path / "d", n=3, size=32, seed=1)
    shutil.copy(tmp_path / "d" / "img" / "image_1.h5", tmp_path / "d" / "img" / "image_7.h5")
    (report,) = check_datasets([tmp_path / "d"], progress=False)
    flagged = [i for i in report.issues if "identical image" in i.problem]
    assert {Path(i.file).name for i in flagged} == {"image_1.h5", "image_7.h5"}
    assert report.ok  # image_7 has no mask: nothing to disagree, a warning only
    as_json = CliRunner().invoke(cli, ["data", "check", str(tmp_path / "d"), "--json"])
    assert json.loads(as_json.output)["warnings"] >= 2


def test_random_split_never_separates_copies(two_sources: tuple[Path, Path]) -> None:
    refs = [r for r in discover_many(list(two_sources)) if r.mask is not None]
    hashes = image_hashes(refs)
    copies = [g for g in leak_groups(refs, hashes) if len(g) > 1]
    assert sorted(len(g) for g in copies) == [2, 2, 2]
    separated = 0
    for seed in range(30):
        parts = split_apart(refs, 0.3, seed, hashes)
        val = {r.key for r in parts.val}
        assert parts.val and parts.train and not parts.buffer
        separated += sum(len({r.key in val for r in g}) > 1 for g in copies)
    assert separated == 0


def test_overlapping_patches_of_one_scene_never_straddle_the_split(tmp_path: Path) -> None:
    from slidewatch.data.build import build_patches
    from slidewatch.synthetic import make_synthetic_area

    area = make_synthetic_area(tmp_path / "area", 320, 320, seed=3)
    built = build_patches(area.scene, area.labels, tmp_path / "patches", size=128, stride=64,
                          scale="none", progress=False)  # fmt: skip
    refs = discover(built.out)
    assert len(refs) == 16 and len(leak_groups(refs)) == 1  # every patch overlaps a neighbour
    boxes = footprints(refs)

    def overlap(a: str, b: str) -> bool:
        (_, p), (_, q) = boxes[a], boxes[b]
        return p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]

    for seed in range(5):
        parts = split_apart(refs, 0.2, seed)
        assert len(parts.val) >= 3 and parts.buffer and parts.train
        assert not any(overlap(t.key, v.key) for t in parts.train for v in parts.val)
        assert len(parts.train) + len(parts.val) + len(parts.buffer) == 16


def test_plain_patches_split_as_before(tmp_path: Path) -> None:
    make_l4s_dataset(tmp_path / "d", n=10, size=32, seed=5)
    refs = discover(tmp_path / "d")
    ordered = sorted(refs, key=lambda r: r.key)
    order = np.random.default_rng(7).permutation(10)
    expected = {ordered[i].key for i in order[:2]}  # the 0.1 version's rule
    assert {r.key for r in split_apart(refs, 0.2, 7).val} == expected


def test_keys_tell_the_splits_apart_and_old_split_files_still_read(tmp_path: Path) -> None:
    """The benchmark numbers each split from 1: TrainData/img/image_1.h5 and
    ValidData/img/image_1.h5 are different patches and must have different keys."""
    from slidewatch.data.splits import read_split, write_split

    make_l4s_dataset(tmp_path / "L4S" / "x", n=2, size=32, seed=1)
    for folder in ("TrainData", "ValidData"):
        shutil.copytree(tmp_path / "L4S" / "x", tmp_path / "L4S" / folder)
    shutil.rmtree(tmp_path / "L4S" / "x")
    write_mask(tmp_path / "L4S" / "ValidData" / "mask" / "mask_1.h5", np.zeros((32, 32)))
    refs = discover(tmp_path / "L4S")
    assert sorted(r.key for r in refs) == [
        "L4S/train/image_1", "L4S/train/image_2", "L4S/val/image_1", "L4S/val/image_2",
    ]  # fmt: skip
    assert len(leak_groups(refs)) == 2  # each image is in both splits: copies, kept together
    write_split(tmp_path / "s.json", {"train": refs[:2], "val": refs[2:]})
    assert read_split(tmp_path / "s.json", refs)["val"] == refs[2:]
    flat = discover(tmp_path / "L4S" / "TrainData")
    (tmp_path / "old.json").write_text(json.dumps({"train": ["TrainData/image_1"], "val": []}))
    assert read_split(tmp_path / "old.json", flat)["train"] == flat[:1]  # a 0.1 key
