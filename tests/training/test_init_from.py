"""``train --init-from MODEL``: fine-tuning keeps the architecture, bands and normalisation,
starts from the weights, and refuses a mismatch with a message naming the fix."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from safetensors.numpy import load_file

from slidewatch.cli import cli
from slidewatch.models.modelfile import read_spec


def _train(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["train", "--batch-size", "4", "--quiet", *args])
    return result.exit_code, result.output


def test_fine_tuning_starts_from_the_model(tmp_path: Path, flat_data: Path, trained: Path) -> None:
    run = tmp_path / "tuned"
    code, output = _train(["--data", str(flat_data), "--init-from", str(trained),
                           "--epochs", "1", "--lr", "1e-9", "--out", str(run)])  # fmt: skip
    assert code == 0, output
    base, tuned = read_spec(trained), read_spec(run / "model")
    assert tuned.architecture == base.architecture and tuned.options == base.options
    assert tuned.bands == base.bands  # six10m taken from the model, not the all14 default
    assert tuned.normalization == base.normalization
    assert tuned.training["init_from"]["path"] == str(trained.resolve())
    # with a vanishing learning rate the weights stay the starting model's
    a = load_file(str(trained / "model.safetensors"))
    b = load_file(str(run / "model" / "model.safetensors"))
    conv = next(k for k in a if k.endswith("weight") and a[k].ndim == 4)
    assert abs(a[conv] - b[conv]).max() < 1e-4


def test_mismatched_bands_or_architecture_are_refused(
    tmp_path: Path, flat_data: Path, trained: Path
) -> None:
    base = ["--data", str(flat_data), "--init-from", str(trained), "--epochs", "1"]
    code, output = _train([*base, "--bands", "rgb", "--out", str(tmp_path / "a")])
    assert code == 2 and "the bands (and their order) must match" in output
    assert "--bands B2,B3,B4,B8,B11,B12" in output or "pass --bands" in output
    code, output = _train([*base, "--arch", "segformer", "--out", str(tmp_path / "b")])
    assert code == 2 and "fine-tuning keeps the architecture" in output
    code, output = _train([*base[:2], "--init-from", str(tmp_path / "none"),
                           "--out", str(tmp_path / "c")])  # fmt: skip
    assert code == 2 and "no such model directory" in output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert "Traceback" not in output
