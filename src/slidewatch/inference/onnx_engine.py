"""The ONNX Runtime engine and the model's cached ONNX graph.

The graph of a model folder is ``model.onnx`` beside the weights (or, when the folder is
read-only, ``$XDG_CACHE_HOME/slidewatch/onnx/<hash>.onnx``). Its metadata records the
:func:`~slidewatch.models.modelfile.model_hash` of the weights and description it was
exported from; a graph whose hash differs (a retrained or recalibrated model) is exported
again, which needs torch — without torch that is an error saying how to export it.

An exported ``.onnx`` file (``slidewatch export``) is a model by itself: its metadata holds
the bands, normalisation and threshold. Sessions use every core given to them (intra-op
threads) and run nodes sequentially, which is fastest for these convolutional graphs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.data.normalization import Normalization
from slidewatch.errors import ModelError
from slidewatch.inference.engine import available_cores
from slidewatch.models.identity import model_hash
from slidewatch.models.modelfile import ModelSpec, SpecProperties, read_spec

GRAPH_FILE = "model.onnx"
HASH_KEY = "model_hash"
"""ONNX metadata key holding the hash of the model files the graph was exported from."""
SIZE_MULTIPLE = 32
"""Inputs are padded (edge values) to a multiple of this, as the torch predictor does."""


def _session(path: Path, device: str, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # no warnings about unused initialisers on stderr
    # Spin-waiting workers lost ~30 % on a loaded 2-core machine and compete with the reader
    # thread; without spinning a quiet machine loses a few percent at most.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers: list[Any] = ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        providers = [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # ORT raises its own untyped errors for unreadable graphs
        raise ModelError(
            f"{path}: not a usable ONNX graph ({str(exc).splitlines()[0][:200]}); delete it "
            "and rerun (it is exported again), or re-export with `slidewatch export`"
        ) from None


def graph_cache_path(model_dir: Path, digest: str) -> Path:
    """Where the graph of a model folder lives: beside the weights when writable."""
    if os.access(model_dir, os.W_OK):
        return model_dir / GRAPH_FILE
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "slidewatch" / "onnx" / f"{digest}.onnx"


def _metadata(session: Any) -> dict[str, str]:
    return dict(session.get_modelmeta().custom_metadata_map)


def _export(model_dir: Path, path: Path) -> None:
    try:
        import torch  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        raise ModelError(
            f"{model_dir}: its ONNX graph ({path}) is missing or was exported from other "
            "weights, and exporting needs torch, which is not installed; run `slidewatch "
            f"export --model {model_dir} --out {path}` where slidewatch[ml] is installed, "
            "or pass --engine torch"
        ) from None
    from slidewatch.models.onnx_export import export_onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model_dir, path)


def model_graph_session(model_dir: Path, device: str, threads: int | None) -> tuple[Any, Path]:
    """An ORT session on the up-to-date graph of ``model_dir`` (exported when stale)."""
    digest = model_hash(model_dir)
    path = graph_cache_path(model_dir, digest)
    if path.is_file():
        session = _session(path, device, threads)
        if _metadata(session).get(HASH_KEY) == digest:
            return session, path
    _export(model_dir, path)
    return _session(path, device, threads), path


def spec_from_metadata(meta: dict[str, str], path: Path) -> ModelSpec:
    """The model description carried by an exported graph's metadata."""
    try:
        return ModelSpec(
            architecture=meta["architecture"],
            options={},
            bands=tuple(meta["bands"].split(",")),
            normalization=Normalization.from_dict(json.loads(meta["normalization"])),
            threshold=float(meta["threshold"]),
            patch_size=int(meta["patch_size"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(
            f"{path}: the ONNX file lacks slidewatch metadata ({type(exc).__name__}: {exc}); "
            "export it with `slidewatch export` or pass the model folder"
        ) from None


class OnnxEngine(SpecProperties):
    """ONNX Runtime on a model folder's cached graph, or on an exported ``.onnx`` file."""

    name = "onnx"

    def __init__(self, model: Path, device: str = "cpu", threads: int | None = None) -> None:
        self.device = device
        if model.suffix == ".onnx":
            if not model.is_file():
                raise ModelError(f"{model}: no such ONNX file; check the path")
            self.session = _session(model, device, threads)
            self.spec = spec_from_metadata(_metadata(self.session), model)
            self.graph = model
        else:
            self.spec = read_spec(model)
            self.session, self.graph = model_graph_session(model, device, threads)
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities N×H×W (float32) for ``batch`` N×C×H×W in L4S scale."""
        self.check_batch(batch)
        h, w = batch.shape[-2:]
        x = np.ascontiguousarray(batch, dtype=np.float32)
        pad_h, pad_w = -h % SIZE_MULTIPLE, -w % SIZE_MULTIPLE
        if pad_h or pad_w:
            x = np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="edge")
        (prob,) = self.session.run(None, {self.input_name: x})
        return np.ascontiguousarray(prob[:, 0, :h, :w], dtype=np.float32)
