"""Issue 21, item 2: ``evaluate`` counts a copy of a training patch (same image under another
name or folder) as a training patch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from slidewatch.cli import cli


def copy_training_patches(run_model: Path, data: Path, out: Path, n: int) -> list[str]:
    """Copy ``n`` training patches of the model's run into a new flat folder, renamed."""
    keys = json.loads((run_model.parent / "split.json").read_text())["train"][:n]
    (out / "img").mkdir(parents=True)
    (out / "mask").mkdir()
    for i, key in enumerate(keys):
        number = key.split("/")[-1].removeprefix("image_")
        shutil.copy(data / "img" / f"image_{number}.h5", out / "img" / f"image_{100 + i}.h5")
        shutil.copy(data / "mask" / f"mask_{number}.h5", out / "mask" / f"mask_{100 + i}.h5")
    return keys


def evaluate_all(model: Path, data: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, [
        "evaluate", "--model", str(model), "--data", str(data), "--split", "all", "--quiet",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return {"stderr": result.stderr, **json.loads(result.stdout)}


def test_copies_of_training_patches_count_as_training_patches(
    trained: Path, flat_data: Path, tmp_path: Path
) -> None:
    copy_training_patches(trained, flat_data, tmp_path / "copies", 3)
    out = evaluate_all(trained, tmp_path / "copies")
    assert out["n_patches"] == 3 and out["training_patches_scored"] == 3
    assert "3 of the 3 scored patches were training patches" in out["stderr"]


def test_without_fingerprints_the_training_data_is_hashed(
    trained: Path, flat_data: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained.parent, run)
    (run / "fingerprints.json").unlink()
    copy_training_patches(run / "model", flat_data, tmp_path / "copies", 2)
    assert evaluate_all(run / "model", tmp_path / "copies")["training_patches_scored"] == 2
