"""Inference engines: one interface over PyTorch and ONNX Runtime, chosen by measurement.

An :class:`Engine` turns L4S-scale band batches (N×C×H×W float32) into landslide
probabilities (N×H×W float32). Two are registered:

- ``torch``: :class:`slidewatch.models.predictor.Predictor` (on CUDA with mixed precision
  and channels-last memory);
- ``onnx``: ONNX Runtime on the model's ONNX graph (:mod:`slidewatch.inference.onnx_engine`),
  which is exported once per model file, stored beside the weights and tied to their hash.
  It never imports torch once the graph exists, so detection runs on a small install.

``auto`` picks, per architecture and device, the engine that measured faster
(:data:`MEASURED_WINDOWS_PER_S`). This module imports neither torch nor onnxruntime.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from slidewatch.errors import ConfigError, unknown_name
from slidewatch.models.modelfile import ModelSpec, SpecProperties

ENGINES = ("torch", "onnx")
"""Registered engine names (``auto`` chooses one of them)."""
ENGINE_CHOICES = ("auto", *ENGINES)
DEVICES = ("cpu", "cuda", "auto")

MEASURED_WINDOWS_PER_S: dict[tuple[str, str], dict[str, float]] = {
    # Windows/s, batch 8 of 128² px × 14 bands, eval mode, both engines on all (2) cores,
    # untrained seeded models (unet at base width 64), measured in one run on the quiet
    # 2-core development machine: `bench/bench_engines.py --seconds 3 --rounds 2`.
    ("unet-mobilenetv2", "cpu"): {"torch": 63.9, "onnx": 101.0},
    ("unet-resnet34", "cpu"): {"torch": 38.2, "onnx": 44.8},
    ("unet", "cpu"): {"torch": 6.0, "onnx": 7.9},
    ("segformer", "cpu"): {"torch": 113.2, "onnx": 93.1},
}
"""Measured throughput per (architecture, device) and engine; ``auto`` takes the fastest.

No GPU was available when this table was made: CUDA rows are absent, so CUDA falls back
to :data:`DEFAULT_ENGINE` (torch with mixed precision and channels-last) until a
measurement is added, e.g. through ``SLIDEWATCH_ENGINE_TABLE``.
"""
DEFAULT_ENGINE = {"cpu": "onnx", "cuda": "torch"}
"""Engine per device for architectures without a measurement."""
TABLE_ENV = "SLIDEWATCH_ENGINE_TABLE"
"""The setting naming a JSON file of extra measurements, which override the table:
``[{"architecture": "unet", "device": "cuda", "torch": 900.0, "onnx": 700.0}, ...]``
(read by :class:`slidewatch.application.settings.Settings`, never here)."""
_table_file: Path | None = None
"""The file the edge installed (:func:`use_engine_table`); None: the shipped table only."""


class Engine(Protocol):
    """What detection and evaluation need from a loaded model."""

    name: str
    """Registry name of the engine (``torch`` or ``onnx``)."""
    spec: ModelSpec
    """The model's description (bands, normalisation, threshold, ...)."""

    @property
    def bands(self) -> tuple[str, ...]: ...

    @property
    def threshold(self) -> float: ...

    @property
    def patch_size(self) -> int: ...

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities N×H×W (float32) for ``batch`` N×C×H×W in L4S scale."""
        ...


class TorchEngine(SpecProperties):
    """The PyTorch predictor; on CUDA with mixed precision and channels-last memory."""

    name = "torch"

    def __init__(self, model_dir: Path, device: str, threads: int | None) -> None:
        import torch

        from slidewatch.models.predictor import Predictor

        if threads:
            torch.set_num_threads(threads)
        cuda = device.startswith("cuda")
        self.device = device
        self.predictor = Predictor(model_dir, device=device, amp=cuda, channels_last=cuda)
        self.spec = self.predictor.spec

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities N×H×W (float32) for ``batch`` N×C×H×W in L4S scale."""
        return self.predictor.predict(batch)


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible, without importing torch (device nodes, env)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia/gpus").is_dir()


def ort_cuda_available() -> bool:
    """Whether the installed ONNX Runtime offers its CUDA provider."""
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def _torch_cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str, engine: str = "torch") -> str:
    """``auto`` -> ``cuda`` when a GPU can run ``engine`` else ``cpu``; validate the name.

    Imports torch only when a GPU is visible and the torch engine may use it.
    """
    if device not in DEVICES and not device.startswith("cuda:"):
        raise ConfigError(f"unknown device {device!r}; valid names: {', '.join(DEVICES)}")
    if device == "cpu":
        return device
    if not gpu_visible():
        usable = False
    elif engine == "onnx":
        usable = ort_cuda_available()
    elif engine == "torch":
        usable = _torch_cuda_available()
    else:  # auto: either engine will do
        usable = ort_cuda_available() or _torch_cuda_available()
    if device == "auto":
        return "cuda" if usable else "cpu"
    if not usable:
        raise ConfigError(
            f"device {device!r} asked for but no CUDA GPU is usable by engine {engine!r}; "
            "use --device cpu (or install onnxruntime-gpu for the onnx engine on CUDA)"
        )
    return device


def use_engine_table(path: str | Path | None) -> None:
    """Choose ``auto`` engines in this process with the rows of ``path`` too (the settings'
    ``engine_table``, installed by each edge at start); the file is checked now."""
    global _table_file
    if path is not None:
        engine_table(path)
    _table_file = Path(path) if path is not None else None


def engine_table(path: str | Path | None = None) -> dict[tuple[str, str], dict[str, float]]:
    """The measurement table, with the rows of ``path`` (default: the installed file)."""
    table = {k: dict(v) for k, v in MEASURED_WINDOWS_PER_S.items()}
    path = path or _table_file
    if not path:
        return table
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        for row in rows:
            key = (str(row["architecture"]), str(row["device"]))
            table[key] = {e: float(row[e]) for e in ENGINES if e in row}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path}: not a usable engine table ({type(exc).__name__}: {exc}); give a JSON "
            'list like [{"architecture": "unet", "device": "cpu", "torch": 3.7, "onnx": 5.0}] '
            f"or unset {TABLE_ENV}"
        ) from None
    return table


def choose_engine(
    architecture: str,
    device: str,
    table: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    onnx_cuda: bool | None = None,
) -> str:
    """The engine ``auto`` means for ``architecture`` on ``device`` (``cpu`` or ``cuda[:N]``).

    The faster measured engine wins; without a measurement, :data:`DEFAULT_ENGINE`. On CUDA
    the onnx engine is a candidate only when ONNX Runtime has its CUDA provider.
    """
    kind = "cuda" if device.startswith("cuda") else "cpu"
    table = engine_table() if table is None else table
    candidates = list(ENGINES)
    if kind == "cuda" and not (ort_cuda_available() if onnx_cuda is None else onnx_cuda):
        candidates = ["torch"]
    measured = {e: v for e, v in table.get((architecture, kind), {}).items() if e in candidates}
    if measured:
        return max(measured, key=measured.__getitem__)
    default = DEFAULT_ENGINE[kind]
    return default if default in candidates else candidates[0]


def load_engine(
    model_dir: str | Path, engine: str = "auto", device: str = "cpu", threads: int | None = None
) -> Engine:
    """Load the model in ``model_dir`` (a model folder, or an exported ``.onnx`` file).

    ``engine``: ``auto``, ``torch`` or ``onnx``; ``device``: ``cpu``, ``cuda[:N]`` or
    ``auto``; ``threads``: cores the engine may use (default: all of them).
    """
    if engine not in ENGINE_CHOICES:
        raise unknown_name("engine", engine, ENGINE_CHOICES)
    path = Path(model_dir)
    if path.suffix == ".onnx" and engine == "torch":
        raise ConfigError(
            f"{path}: an ONNX file runs with the onnx engine only; pass --engine onnx "
            "(or the model folder for torch)"
        )
    device = resolve_device(device, "onnx" if path.suffix == ".onnx" else engine)
    if engine == "auto":
        engine = "onnx" if path.suffix == ".onnx" else choose_engine(_architecture(path), device)
    if engine == "torch":
        return TorchEngine(path, device, threads)
    from slidewatch.inference.onnx_engine import OnnxEngine

    return OnnxEngine(path, device, threads)


def _architecture(model_dir: Path) -> str:
    from slidewatch.models.modelfile import read_spec

    return read_spec(model_dir).architecture


def describe(engine: Any) -> dict[str, Any]:
    """The engine's part of a run summary."""
    return {"engine": engine.name, "device": getattr(engine, "device", "cpu")}
