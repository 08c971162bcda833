"""The model file: ``model.safetensors`` (weights) + ``model.json`` (what the weights mean).

A model directory is what detection, evaluation and export load. Loading never unpickles:
the weights are read with safetensors and the description is plain JSON. ``read_spec``
needs no torch, so tools that only inspect a model stay light.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch import __version__
from slidewatch.atomic import atomic_output as atomic_output  # re-exported for callers
from slidewatch.atomic import write_text_atomic
from slidewatch.bands import resolve_bands
from slidewatch.data.contract import BandStats
from slidewatch.data.normalization import Normalization
from slidewatch.errors import ConfigError, ModelError, SlidewatchError

if TYPE_CHECKING:
    import torch
    from torch import nn

WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "model.json"
FORMAT_VERSION = 1
"""Version of the ``model.json`` layout this slidewatch writes and reads."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model and feed it correctly."""

    architecture: str
    """Registry name (``unet``, ``unet-resnet34``, ...)."""
    options: dict[str, Any]
    """Keyword options passed to ``build_model`` (e.g. ``{"base_width": 64}``)."""
    bands: tuple[str, ...]
    """Input band names in channel order; ``in_channels`` is their number."""
    normalization: Normalization
    """Applied to L4S-scale input before the network (restricted to ``bands``)."""
    threshold: float = 0.5
    """Probability above which a pixel is called landslide."""
    patch_size: int = 128
    """Side of the square patches the model was trained on."""
    training: dict[str, Any] = field(default_factory=dict)
    """Training summary (data, epochs, loss, ...), free-form JSON."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Validation metrics, free-form JSON."""
    format_version: int = FORMAT_VERSION
    """Layout version of ``model.json``."""
    band_stats: BandStats | None = None
    """Value statistics of the training split (the data contract); None in files written
    before 0.2, which are then checked against ``normalization`` alone."""

    def __post_init__(self) -> None:
        bands = resolve_bands(list(self.bands))
        object.__setattr__(self, "bands", bands)
        if self.normalization.bands != bands:
            object.__setattr__(self, "normalization", self.normalization.select(bands))
        if self.band_stats is not None and self.band_stats.bands != bands:
            object.__setattr__(self, "band_stats", self.band_stats.select(bands))
        if not 0.0 < float(self.threshold) < 1.0:
            raise ConfigError(f"threshold must lie strictly between 0 and 1, got {self.threshold}")
        if int(self.patch_size) < 1:
            raise ConfigError(f"patch_size must be a positive integer, got {self.patch_size}")

    @property
    def in_channels(self) -> int:
        """Number of input bands."""
        return len(self.bands)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written as ``model.json``."""
        d = asdict(self)
        d["bands"] = list(self.bands)
        d["normalization"] = self.normalization.to_dict()
        d["band_stats"] = self.band_stats.to_dict() if self.band_stats is not None else None
        d["in_channels"] = self.in_channels
        d["slidewatch_version"] = __version__
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        """Inverse of :meth:`to_dict`; raises ConfigError/KeyError/TypeError when malformed."""
        if not isinstance(d.get("normalization"), dict):
            raise TypeError("'normalization' must be an object (offset and scale per band)")
        return cls(
            architecture=str(d["architecture"]),
            options=dict(d.get("options") or {}),
            bands=tuple(d["bands"]),
            normalization=Normalization.from_dict(d["normalization"]),
            threshold=float(d.get("threshold", 0.5)),
            patch_size=int(d.get("patch_size", 128)),
            training=dict(d.get("training") or {}),
            metrics=dict(d.get("metrics") or {}),
            format_version=int(d.get("format_version", FORMAT_VERSION)),
            band_stats=BandStats.from_dict(d["band_stats"]) if d.get("band_stats") else None,
        )


class SpecProperties:
    """``bands``, ``threshold`` and ``patch_size`` read from ``self.spec``."""

    spec: ModelSpec

    @property
    def bands(self) -> tuple[str, ...]:
        """Input band names in the order ``predict`` expects them."""
        return self.spec.bands

    @property
    def threshold(self) -> float:
        """Decision threshold stored in the model file."""
        return self.spec.threshold

    @property
    def patch_size(self) -> int:
        """Patch side the model was trained on."""
        return self.spec.patch_size

    def check_batch(self, batch: np.ndarray) -> None:
        """ModelError unless ``batch`` is N×C×H×W with the model's band count."""
        if not isinstance(batch, np.ndarray) or batch.ndim != 4:
            shape = getattr(batch, "shape", type(batch).__name__)
            raise ModelError(f"predict expects an N×C×H×W numpy array, got {shape}")
        if batch.shape[1] != len(self.bands):
            raise ModelError(
                f"the batch holds {batch.shape[1]} bands but the model expects "
                f"{len(self.bands)} ({', '.join(self.bands)}); select those bands in that order"
            )


def save_model(directory: Path, model: nn.Module, spec: ModelSpec) -> Path:
    """Write ``model.safetensors`` then ``model.json`` into ``directory``; return it."""
    from safetensors.torch import save_file

    directory = Path(directory)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_output(directory / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt", "architecture": spec.architecture})
    text = json.dumps(spec.to_dict(), indent=2, sort_keys=False)
    write_text_atomic(directory / SPEC_FILE, text + "\n")
    return directory


def read_spec(directory: Path) -> ModelSpec:
    """Read ``model.json`` of a model directory (no torch needed); ModelError when unusable."""
    path = Path(directory) / SPEC_FILE
    if not Path(directory).is_dir():
        raise ModelError(
            f"{directory}: no such model directory; pass the folder holding "
            f"{SPEC_FILE} and {WEIGHTS_FILE} (RUN_DIR/model)"
        )
    if not path.is_file():
        inner = Path(directory) / "model"
        if (inner / SPEC_FILE).is_file():
            raise ModelError(
                f"{directory} is a run folder, not a model directory; its model is in "
                f"{inner}: pass --model {inner}"
            )
        raise ModelError(f"{path}: missing; a model directory holds {SPEC_FILE} and {WEIGHTS_FILE}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{path}: not valid JSON ({exc}); restore it from the run folder"
        ) from None
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a JSON object; restore it from the run folder")
    version = doc.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(
            f"{path}: format_version {version!r} is newer than this slidewatch reads "
            f"({FORMAT_VERSION}); upgrade slidewatch"
        )
    try:
        return ModelSpec.from_dict(doc)
    except (KeyError, TypeError, ValueError, SlidewatchError) as exc:
        raise ModelError(
            f"{path}: malformed model description ({type(exc).__name__}: {exc}); "
            "restore it from the run folder or re-save the model"
        ) from None


def check_weights(directory: Path) -> None:
    """ModelError unless the folder's weights are a whole safetensors file (its header read
    and its data checked to cover the file: a truncated copy is refused); no torch."""
    from safetensors import SafetensorError, safe_open

    path = Path(directory) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelError(
            f"{path}: missing; a model directory holds {SPEC_FILE} and {WEIGHTS_FILE} "
            "(copy the whole RUN_DIR/model folder)"
        )
    try:
        with safe_open(str(path), framework="numpy") as weights:
            if not list(weights.keys()):
                raise ModelError(f"{path}: holds no weights; restore it from the run folder")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(
            f"{path}: not a readable safetensors file ({exc}); restore it from the run folder"
        ) from None


def _read_weights(path: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelError(
            f"{path}: missing; a model directory holds {SPEC_FILE} and {WEIGHTS_FILE} "
            "(copy the whole RUN_DIR/model folder)"
        )
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(
            f"{path}: not a readable safetensors file ({exc}); restore it from the run folder"
        ) from None


def weight_mismatches(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Human-readable differences between two state dicts (keys and shapes)."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        f"{k}: file {tuple(found[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in found and tuple(found[k].shape) != tuple(v.shape)
    ]
    out = []
    if missing:
        out.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        out.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if shapes:
        out.append(f"{len(shapes)} of other shape (e.g. {'; '.join(shapes[:3])})")
    return out


def torch_device(name: str) -> torch.device:
    """``torch.device(name)``, with a ConfigError when it is malformed or not present here."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {name!r} ({exc}); use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and (
        not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()
    ):
        raise ConfigError(
            f"device {name!r} is not available on this machine "
            f"({torch.cuda.device_count()} CUDA devices); use device 'cpu'"
        )
    return device


def load_model(directory: Path, device: str = "cpu") -> tuple[nn.Module, ModelSpec]:
    """Rebuild the model of ``directory`` in eval mode on ``device``; never unpickles."""
    from slidewatch.models.registry import build_model

    target = torch_device(device)
    directory = Path(directory)
    spec = read_spec(directory)
    weights_path = directory / WEIGHTS_FILE
    state = _read_weights(weights_path)
    options = dict(spec.options)
    if "encoder_weights" in options:  # the file holds the weights: never download at load
        options["encoder_weights"] = None
    try:
        model = build_model(spec.architecture, spec.in_channels, **options)
    except SlidewatchError as exc:
        raise ModelError(f"{directory / SPEC_FILE}: cannot build the model: {exc}") from None
    problems = weight_mismatches(model.state_dict(), state)
    if problems:
        raise ModelError(
            f"{weights_path}: weights do not fit architecture {spec.architecture!r} with "
            f"{spec.in_channels} bands and options {spec.options}: {'; '.join(problems)}. "
            f"{WEIGHTS_FILE} and {SPEC_FILE} must come from the same save_model call"
        )
    model.load_state_dict(state, strict=True)
    return model.to(target).eval(), spec
