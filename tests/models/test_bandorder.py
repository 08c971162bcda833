"""Band order of an ONNX input: named in the graph, a helper, and the docs' example runs."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from slidewatch.data.normalization import normalization_from_arrays
from slidewatch.errors import BandError
from slidewatch.models.bandorder import band_order_indices, reorder_bands
from slidewatch.models.modelfile import ModelSpec, save_model
from slidewatch.models.onnx_export import export_onnx
from slidewatch.models.predictor import Predictor
from slidewatch.models.registry import build_model

DOC = Path(__file__).parents[2] / "docs" / "engine.md"
MODEL_BANDS = ("B4", "B3", "B2", "B8")
PATCH_BANDS = ["B2", "B3", "B4", "B8"]


def test_helper_maps_catalogue_order_to_the_model_order() -> None:
    assert band_order_indices(PATCH_BANDS, MODEL_BANDS) == [2, 1, 0, 3]
    assert band_order_indices(["B2", "B3", "B4", "B8", "B11"], MODEL_BANDS) == [2, 1, 0, 3]
    image = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 2, 2), np.float32)
    assert reorder_bands(image, PATCH_BANDS, MODEL_BANDS)[:, 0, 0].tolist() == [2, 1, 0, 3]
    with pytest.raises(BandError, match="'B8' is not available"):
        band_order_indices(["B2", "B3", "B4"], MODEL_BANDS)
    with pytest.raises(BandError, match="holds 4 channels"):
        reorder_bands(image, PATCH_BANDS[:3], MODEL_BANDS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bandorder")
    torch.manual_seed(1)
    norm = normalization_from_arrays(
        "minmax", MODEL_BANDS, minimum=[0.0, 0.1, 0.2, 0.3], maximum=[1.0, 1.5, 2.0, 4.0]
    )
    spec = ModelSpec("unet", {"base_width": 8}, MODEL_BANDS, norm, threshold=0.5, patch_size=64)
    save_model(folder / "model", build_model("unet", 4, base_width=8).eval(), spec)
    export_onnx(folder / "model", folder / "model.onnx")
    return folder


def test_band_order_is_in_the_input_doc_string(exported: Path) -> None:
    import onnx

    graph = onnx.load(str(exported / "model.onnx")).graph
    assert "B4,B3,B2,B8" in graph.input[0].doc_string
    meta = ort.InferenceSession(str(exported / "model.onnx")).get_modelmeta()
    assert meta.custom_metadata_map["bands"] == "B4,B3,B2,B8"


def test_the_documented_onnxruntime_example_reorders_correctly(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"<!-- onnx-example -->\s*```python\n(.*?)```", text, re.S)
    assert code is not None, "docs/engine.md lost its ONNX example"
    assert len(code.group(1).strip().splitlines()) <= 12
    rng = np.random.default_rng(0)
    patch = rng.uniform(0.0, 2.0, (4, 64, 64)).astype(np.float32)  # catalogue order
    np.save(exported / "patch.npy", patch)
    script = exported / "example.py"
    script.write_text(code.group(1))
    monkeypatch.chdir(exported)
    result = runpy.run_path(str(script))
    expected = Predictor(exported / "model").predict(
        reorder_bands(patch, PATCH_BANDS, MODEL_BANDS)[None]
    )[0]
    np.testing.assert_allclose(result["probability"], expected, atol=1e-4)
    unordered = Predictor(exported / "model").predict(patch[None])[0]
    assert np.abs(unordered - expected).max() > 1e-3  # without reordering: another answer
