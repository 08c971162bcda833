"""Atomic folders: the final name holds the old folder or the whole new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from slidewatch.atomic import atomic_folder


def test_a_finished_folder_replaces_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith("out.tmp-") and tmp.is_dir()
        (tmp / "new.txt").write_text("new")
        assert (out / "old.txt").is_file()  # the old folder stays until the new one is done
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no .tmp-, no .old-


def test_a_failed_folder_leaves_the_old_one_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("stopped")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "new") as tmp:
        raise RuntimeError("stopped")
    assert not (tmp_path / "new").exists()
