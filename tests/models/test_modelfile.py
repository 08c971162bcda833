"""The model file: safetensors + JSON round trip, atomic writes, and clear errors."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import slidewatch.models.modelfile as modelfile
from slidewatch.bands import BAND_NAMES
from slidewatch.data.normalization import Normalization, normalization_from_arrays
from slidewatch.errors import ConfigError, ModelError
from slidewatch.models.modelfile import ModelSpec, load_model, read_spec, save_model
from slidewatch.models.registry import build_model

from .conftest import SIX, save_tiny_model


def test_round_trip_restores_weights_and_description(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build_model("unet", 6, base_width=4).eval()
    norm = normalization_from_arrays("minmax", SIX, minimum=np.zeros(6), maximum=np.arange(1, 7))
    spec = ModelSpec(
        "unet", {"base_width": 4}, SIX, norm, threshold=0.3, patch_size=64,
        training={"epochs": 3, "data": ["l4s"]}, metrics={"f1": 0.5},
    )  # fmt: skip
    directory = save_model(tmp_path / "model", model, spec)
    assert sorted(p.name for p in directory.iterdir()) == ["model.json", "model.safetensors"]
    loaded, spec2 = load_model(directory)
    assert spec2 == spec and spec2.in_channels == 6
    assert not loaded.training
    x = torch.rand(2, 6, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_json_describes_the_model(tiny_model_dir: Path) -> None:
    doc = json.loads((tiny_model_dir / "model.json").read_text())
    assert doc["architecture"] == "unet"
    assert doc["options"] == {"base_width": 8}
    assert doc["bands"] == list(SIX) and doc["in_channels"] == 6
    assert doc["normalization"]["method"] == "minmax"
    assert doc["normalization"]["bands"] == list(SIX)
    assert doc["threshold"] == 0.4 and doc["patch_size"] == 64
    assert doc["format_version"] == 1 and doc["slidewatch_version"]


def test_spec_restricts_normalization_to_its_bands() -> None:
    norm = normalization_from_arrays(
        "minmax", BAND_NAMES, minimum=np.arange(14), maximum=np.arange(14) + 2.0
    )
    spec = ModelSpec("unet", {}, ("b4", "B3"), norm)
    assert spec.bands == ("B4", "B3")
    assert spec.normalization.bands == ("B4", "B3")
    assert spec.normalization.offset == (3.0, 2.0)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5])
def test_spec_rejects_bad_threshold(threshold: float) -> None:
    with pytest.raises(ConfigError, match="threshold"):
        ModelSpec("unet", {}, SIX, Normalization.identity(SIX), threshold=threshold)


def test_loading_never_unpickles(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    model, spec = load_model(tiny_model_dir)
    assert spec.architecture == "unet" and isinstance(model, torch.nn.Module)


def test_read_spec_does_not_import_torch(tiny_model_dir: Path) -> None:
    code = (
        "import sys; from slidewatch.models.modelfile import read_spec; "
        f"s = read_spec({str(tiny_model_dir)!r}); "
        "print(s.architecture, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["unet", "False"]


def test_failed_save_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(state: object, path: str, metadata: object = None) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_tiny_model(tmp_path / "model")
    assert list((tmp_path / "model").iterdir()) == []


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model directory; pass the folder holding"):
        load_model(tmp_path / "nowhere")


@pytest.mark.parametrize("missing", ["model.json", "model.safetensors"])
def test_missing_file(tiny_model_dir: Path, missing: str) -> None:
    (tiny_model_dir / missing).unlink()
    with pytest.raises(ModelError, match=f"{missing}: missing; a model directory holds"):
        load_model(tiny_model_dir)


def test_corrupt_json(tiny_model_dir: Path) -> None:
    (tiny_model_dir / "model.json").write_text('{"architecture": "unet", ')
    with pytest.raises(ModelError, match=r"model.json: not valid JSON .*restore it"):
        read_spec(tiny_model_dir)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"bands": ["B2", "B8A"]}, "malformed model description.*unknown band 'B8A'"),
        ({"normalization": None}, "malformed model description"),
        ({"format_version": 99}, "format_version 99 is newer.*upgrade slidewatch"),
    ],
)
def test_malformed_json(tiny_model_dir: Path, edit: dict[str, object], message: str) -> None:
    path = tiny_model_dir / "model.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    with pytest.raises(ModelError, match=message):
        read_spec(tiny_model_dir)


def test_unknown_architecture_in_json(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "architecture": "resnet"}))
    with pytest.raises(ModelError, match=r"model.json: cannot build the model: unknown model"):
        load_model(tiny_model_dir)


def test_corrupt_safetensors(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        load_model(tiny_model_dir)


def test_weights_of_another_architecture(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "options": {"base_width": 16}}))
    with pytest.raises(
        ModelError, match=r"of other shape \(e.g. inc.0.weight: file \(8, 6, 3, 3\)"
    ):
        load_model(tiny_model_dir)
    path.write_text(json.dumps({**doc, "architecture": "unet-mobilenetv2", "options": {}}))
    with pytest.raises(ModelError, match=r"weights do not fit.*missing.*unexpected.*same save"):
        load_model(tiny_model_dir)


def test_weights_for_other_bands(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.json"
    doc = json.loads(path.read_text())
    doc["bands"] = list(BAND_NAMES)
    doc["normalization"] = Normalization.identity(BAND_NAMES).to_dict()
    path.write_text(json.dumps(doc))
    with pytest.raises(
        ModelError, match=r"14 bands .*file \(8, 6, 3, 3\) vs model \(8, 14, 3, 3\)"
    ):
        load_model(tiny_model_dir)


def test_pretrained_option_never_downloads_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_tiny_model(tmp_path / "m", "unet-mobilenetv2")
    path = tmp_path / "m" / "model.json"
    path.write_text(
        json.dumps({**json.loads(path.read_text()), "options": {"encoder_weights": "imagenet"}})
    )

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a download was attempted")

    monkeypatch.setattr("segmentation_models_pytorch.encoders.hf_hub_download", forbidden)
    _, spec = load_model(tmp_path / "m")
    assert spec.options == {"encoder_weights": "imagenet"}
    assert spec.format_version == modelfile.FORMAT_VERSION
