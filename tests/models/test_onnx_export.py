"""ONNX export: onnxruntime reproduces the PyTorch probabilities, metadata travels along."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import slidewatch.models.onnx_export as onnx_export
from slidewatch.errors import ConfigError, ModelError
from slidewatch.models.onnx_export import export_onnx
from slidewatch.models.predictor import Predictor

from .conftest import SIX, l4s_batch, save_tiny_model


@pytest.mark.parametrize("architecture", ["unet", "unet-mobilenetv2", "segformer"])
def test_onnxruntime_matches_pytorch(tmp_path: Path, architecture: str) -> None:
    save_tiny_model(tmp_path / "model", architecture)
    out = export_onnx(tmp_path / "model", tmp_path / "exported" / "model.onnx")
    assert out == tmp_path / "exported" / "model.onnx"
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    # batch size and patch size differ from the export example (1×6×64×64): dynamic axes
    batch = l4s_batch(3, 6, 96, 64, seed=7)
    onnx_probs = session.run(["probability"], {"bands": batch})[0]
    assert onnx_probs.shape == (3, 1, 96, 64)
    torch_probs = Predictor(tmp_path / "model").predict(batch)
    np.testing.assert_allclose(onnx_probs[:, 0], torch_probs, atol=1e-4, rtol=0)


def test_metadata_carries_bands_and_threshold(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = export_onnx(tiny_model_dir, tmp_path / "m.onnx")
    meta = ort.InferenceSession(str(out)).get_modelmeta().custom_metadata_map
    assert meta["bands"] == ",".join(SIX)
    assert float(meta["threshold"]) == 0.4
    assert meta["architecture"] == "unet" and meta["input_scale"] == "L4S"
    assert json.loads(meta["normalization"])["bands"] == list(SIX)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "run"]


def test_failed_export_leaves_no_file(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(network: object, example: object, path: Path, opset: int) -> None:
        path.write_bytes(b"partial")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_export, "_export_graph", broken)
    out_dir = tmp_path / "onnx"
    with pytest.raises(ModelError, match=r"could not export .*exporter crashed.*--opset"):
        export_onnx(tiny_model_dir, out_dir / "m.onnx")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("opset", [5, 30])
def test_unsupported_opset_is_refused_before_exporting(
    tiny_model_dir: Path, tmp_path: Path, opset: int
) -> None:
    with pytest.raises(ConfigError, match=f"opset {opset} is not supported; choose 13 to 20"):
        export_onnx(tiny_model_dir, tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()
