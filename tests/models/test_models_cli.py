"""``slidewatch models`` and ``slidewatch export`` through the CLI runner."""

from __future__ import annotations

from pathlib import Path

import onnx
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.models.registry import model_names


def test_models_lists_every_architecture_with_a_description() -> None:
    result = CliRunner().invoke(cli, ["models", "architectures"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == model_names()
    assert all(len(line.split()) > 3 for line in lines)


def test_export_writes_an_onnx_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "slides.onnx"
    result = CliRunner().invoke(
        cli, ["export", "--model", str(tiny_model_dir), "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {target} (unet, bands B2,B3,B4,B8,slope,dem, threshold 0.4)" in result.output
    onnx.checker.check_model(onnx.load(str(target)))


def test_export_of_a_missing_model_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--model", str(tmp_path / "none"), "--out", str(tmp_path / "m.onnx")]
    )
    assert result.exit_code == 2
    assert "Error: " in result.output and "no such model directory" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m.onnx").exists()


def test_export_of_a_corrupt_model_is_a_clean_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tiny_model_dir / "model.safetensors").write_bytes(b"\x00" * 64)
    result = CliRunner().invoke(
        cli, ["export", "--model", str(tiny_model_dir), "--out", str(tmp_path / "m.onnx")]
    )
    assert result.exit_code == 2
    assert "not a readable safetensors file" in result.output
    assert "Traceback" not in result.output


def test_export_with_a_bad_opset_is_a_clean_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "m.onnx"),
            "--opset",
            "9",
        ],
    )
    assert result.exit_code == 2
    assert "Error: ONNX opset 9 is not supported; choose 13 to 20" in result.output
