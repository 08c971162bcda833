"""Inference engines: torch and ONNX Runtime agree, the ONNX graph follows the model file,
``auto`` follows the measurements, and device resolution needs no torch."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from slidewatch.application.settings import Settings
from slidewatch.errors import ConfigError, ModelError, RegistryError
from slidewatch.inference import engine as engines
from slidewatch.inference.engine import choose_engine, load_engine, resolve_device
from slidewatch.inference.onnx_engine import GRAPH_FILE, HASH_KEY, OnnxEngine
from slidewatch.models.identity import model_hash
from slidewatch.models.modelfile import SPEC_FILE

from .conftest import RGBN, scene_array


def _batch(n: int = 3, size: int = 64) -> np.ndarray:
    return np.stack([scene_array(size, size, seed=i) for i in range(n)])


@pytest.fixture
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model (its graph cache is written beside it)."""
    return Path(shutil.copytree(tiny_model, tmp_path / "model"))


def test_onnx_and_torch_engines_agree(model_copy: Path) -> None:
    onnx = load_engine(model_copy, "onnx")
    torch_ = load_engine(model_copy, "torch")
    assert (onnx.name, torch_.name) == ("onnx", "torch")
    assert onnx.bands == torch_.bands == RGBN and onnx.threshold == 0.5 and onnx.patch_size == 64
    batch = _batch()
    a, b = onnx.predict(batch), torch_.predict(batch)
    assert a.shape == (3, 64, 64) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-4)
    odd = _batch(1, 64)[:, :, :50, :45]  # padded to a multiple of 32 and cropped back
    np.testing.assert_allclose(onnx.predict(odd), torch_.predict(odd), atol=1e-4)


def test_graph_is_cached_beside_the_weights_with_the_model_hash(model_copy: Path) -> None:
    engine = load_engine(model_copy, "onnx")
    assert isinstance(engine, OnnxEngine) and engine.graph == model_copy / GRAPH_FILE
    meta = engine.session.get_modelmeta().custom_metadata_map
    assert meta[HASH_KEY] == model_hash(model_copy)
    stamp = engine.graph.stat().st_mtime_ns
    load_engine(model_copy, "onnx")
    assert engine.graph.stat().st_mtime_ns == stamp  # reused, not exported again


def test_a_recalibrated_model_never_runs_a_stale_graph(model_copy: Path) -> None:
    before = load_engine(model_copy, "onnx")
    doc = json.loads((model_copy / SPEC_FILE).read_text())
    doc["threshold"] = 0.7
    doc["normalization"]["offset"] = [3.0] * 4  # a different model, same weights file
    doc["normalization"]["scale"] = [0.1] * 4
    (model_copy / SPEC_FILE).write_text(json.dumps(doc))
    after = load_engine(model_copy, "onnx")
    assert after.threshold == 0.7
    meta = after.session.get_modelmeta().custom_metadata_map  # type: ignore[attr-defined]
    assert meta[HASH_KEY] == model_hash(model_copy)
    batch = _batch(1)
    assert np.abs(before.predict(batch) - after.predict(batch)).max() > 1e-3
    np.testing.assert_allclose(
        after.predict(batch), load_engine(model_copy, "torch").predict(batch), atol=1e-4
    )


def test_an_exported_onnx_file_is_a_model_by_itself(model_copy: Path) -> None:
    graph = load_engine(model_copy, "onnx").graph  # type: ignore[attr-defined]
    alone = Path(shutil.copy(graph, model_copy.parent / "alone.onnx"))
    engine = load_engine(alone)  # auto: an .onnx file runs on onnx
    assert engine.name == "onnx" and engine.bands == RGBN and engine.threshold == 0.5
    with pytest.raises(ConfigError, match="onnx engine only"):
        load_engine(alone, "torch")


def test_unknown_engine_lists_the_valid_names(tiny_model: Path) -> None:
    with pytest.raises(RegistryError, match="valid names: auto, torch, onnx"):
        load_engine(tiny_model, "tensorrt")


def test_wrong_band_count_is_a_model_error(model_copy: Path) -> None:
    with pytest.raises(ModelError, match="holds 6 bands but the model expects 4"):
        load_engine(model_copy, "onnx").predict(np.zeros((1, 6, 64, 64), np.float32))


def test_auto_takes_the_faster_measured_engine() -> None:
    table = {("unet", "cpu"): {"torch": 3.7, "onnx": 5.0}, ("segformer", "cpu"): {"torch": 67.0}}
    assert choose_engine("unet", "cpu", table) == "onnx"
    assert choose_engine("segformer", "cpu", table) == "torch"
    assert choose_engine("unknown-arch", "cpu", table) == "onnx"  # the CPU default
    # the shipped table: SegFormer measured faster in torch, the U-Nets in ONNX Runtime
    assert choose_engine("segformer", "cpu") == "torch"
    assert choose_engine("unet-mobilenetv2", "cpu") == "onnx"


def test_cuda_selection_between_torch_amp_and_ort_cuda() -> None:
    table = {("unet", "cuda"): {"torch": 900.0, "onnx": 1200.0}}
    assert choose_engine("unet", "cuda:0", table, onnx_cuda=True) == "onnx"
    assert choose_engine("unet", "cuda", table, onnx_cuda=False) == "torch"  # no ORT CUDA
    assert choose_engine("segformer", "cuda", table, onnx_cuda=True) == "torch"  # default


def test_the_table_can_be_overridden_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps([{"architecture": "segformer", "device": "cpu", "onnx": 99.0}]))
    monkeypatch.setattr(engines, "_table_file", None)  # restored after the test
    monkeypatch.setenv(engines.TABLE_ENV, str(path))
    Settings().apply()  # each edge does so at start
    assert choose_engine("segformer", "cpu") == "onnx"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not a usable engine table"):
        choose_engine("segformer", "cpu")
    with pytest.raises(ConfigError, match=f"not a usable engine table.*{engines.TABLE_ENV}"):
        Settings().apply()  # a bad file stops the command at start


def test_a_bad_engine_table_is_a_clean_error_of_any_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from slidewatch.cli import cli

    monkeypatch.setattr(engines, "_table_file", None)
    (tmp_path / "table.json").write_text("[{]")
    monkeypatch.setenv(engines.TABLE_ENV, str(tmp_path / "table.json"))
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 2, result.output
    assert "not a usable engine table" in result.output
    assert "Traceback" not in result.output


def test_device_resolution_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "gpu_visible", lambda: False)
    assert resolve_device("auto", "onnx") == "cpu"
    assert resolve_device("cpu", "torch") == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU is usable"):
        resolve_device("cuda", "onnx")
    with pytest.raises(ConfigError, match="valid names: cpu, cuda, auto"):
        resolve_device("tpu")


def test_device_resolution_with_a_gpu_follows_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "gpu_visible", lambda: True)
    monkeypatch.setattr(engines, "ort_cuda_available", lambda: False)
    monkeypatch.setattr(engines, "_torch_cuda_available", lambda: True)
    assert resolve_device("auto", "torch") == "cuda"
    assert resolve_device("auto", "onnx") == "cpu"  # CPU-only onnxruntime
    with pytest.raises(ConfigError, match="onnxruntime-gpu"):
        resolve_device("cuda", "onnx")


def test_monitoring_workers_install_the_table_of_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from slidewatch.application.settings import HomeSettings
    from slidewatch.monitoring.look import cycle

    path = tmp_path / "table.json"
    path.write_text(json.dumps([{"architecture": "segformer", "device": "cpu", "onnx": 99.0}]))
    monkeypatch.setattr(engines, "_table_file", None)
    config = HomeSettings(home=tmp_path, engine_table=path).monitor_config()
    assert config.engine_table == str(path)  # travels to Dask workers, other processes
    config = replace(config, db_url="nosuchdb://")  # the look itself fails at once
    (outcome,) = cycle._look_on_worker(config, "valley", datetime.now(UTC))
    assert outcome.state == "failed"
    assert choose_engine("segformer", "cpu") == "onnx"  # installed before the look
