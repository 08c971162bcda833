"""The training configuration: one frozen dataclass, read from YAML, overridden by the CLI.

The defaults are the paper's protocol: U-Net on all 14 bands, the Dice-WCE loss, Adam at
lr 1e-3 stepped ×0.1 every 30 epochs, 100 epochs with early stopping after 10 epochs without
a better validation loss, batch size 16, a seeded 80/20 split and min-max normalisation from
the training split.

Multi-GPU: ``num_devices: 4`` with ``strategy: ddp`` (and ``device: cuda``) trains with
Lightning's DistributedDataParallel; launch it as a normal ``slidewatch train`` command,
Lightning spawns one process per device. ``precision: auto`` picks ``16-mixed`` on GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slidewatch.atomic import write_text_atomic
from slidewatch.bands import resolve_bands
from slidewatch.errors import ConfigError

LOSSES = ("bce", "wce", "dice", "wce-dice")
NORMALIZATIONS = ("minmax", "percentiles", "standard", "none")
LOGGERS = ("csv", "tensorboard", "wandb", "mlflow")
SPLITS = ("random", "official")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "32-true", "16-mixed", "bf16-mixed", "64-true")
LIGHTNING_ACCELERATOR = {"auto": "auto", "cpu": "cpu", "cuda": "gpu"}
"""``device`` (slidewatch's one vocabulary) -> Lightning's accelerator name."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs; the defaults follow the paper."""

    data: tuple[str, ...] = ()
    """Patch dataset folders (official, Hugging Face or flat layout); combined, each keeps
    its source name (the folder name)."""
    arch: str = "unet"
    """Architecture name from the model registry (``slidewatch models architectures``)."""
    arch_options: dict[str, Any] = field(default_factory=dict)
    """Keyword options of the architecture (e.g. ``base_width: 32`` for ``unet``)."""
    bands: str = "all14"
    """Band set name (``all14``, ``six10m``, ...) or comma-separated band names."""
    loss: str = "wce-dice"
    """``bce``, ``wce``, ``dice`` or ``wce-dice`` = (1 - alpha)·WCE + alpha·Dice."""
    alpha: float = 0.5
    """Weight of the Dice term in ``wce-dice`` (the paper weighs both terms equally)."""
    beta: float | str = "auto"
    """Landslide-class weight of WCE; ``auto`` derives it from the training split's balance."""
    epochs: int = 100
    """Maximum number of epochs."""
    batch_size: int = 16
    """Patches per batch (per device)."""
    lr: float = 1e-3
    """Adam learning rate."""
    lr_step_epochs: int = 30
    """StepLR period in epochs."""
    lr_gamma: float = 0.1
    """StepLR factor."""
    patience: int = 10
    """Early stopping: epochs without a lower validation loss (0 disables it)."""
    split: str = "random"
    """``random`` (seeded 80/20), ``official`` (train on TrainData, validate on ValidData)
    or the path of a split file (JSON written by a previous run)."""
    val_fraction: float = 0.2
    """Validation share of the random split."""
    seed: int = 42
    """Seed of the split, the weight initialisation and the data order."""
    normalization: str = "minmax"
    """``minmax`` (training-split min/max), ``percentiles``, ``standard`` or ``none``."""
    percentiles: tuple[float, float] = (1.0, 99.0)
    """Lower/upper percentiles used by ``normalization: percentiles``."""
    augment: bool = False
    """Random flips and 90° rotations of training patches."""
    num_workers: int = 0
    """DataLoader worker processes."""
    precision: str = "auto"
    """Lightning precision; ``auto`` = ``16-mixed`` on GPU, else ``32-true``."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    num_devices: int | str = "auto"
    """How many devices; an integer N with ``strategy: ddp`` trains on N GPUs."""
    strategy: str = "auto"
    """Lightning strategy (``auto``, ``ddp``...)."""
    logger: str = "csv"
    """``csv`` (default, no network), ``tensorboard``, ``wandb`` (offline) or ``mlflow``
    (file store under RUN_DIR/mlruns)."""
    out: str = "runs/run"
    """The run directory RUN_DIR (model/, checkpoints/, logs, config.yaml, split.json)."""
    resume: bool = False
    """Continue from RUN_DIR/checkpoints/last.ckpt when it exists."""
    cache_dir: str | None = None
    """A consolidated patch cache to read from (built there from ``data`` if absent)."""
    threshold: float = 0.5
    """Decision threshold on the landslide probability stored in the model file."""
    fast_dev_run: bool = False
    """Lightning's one-batch smoke run (tests)."""
    init_from: str | None = None
    """A model directory to fine-tune: its architecture, bands, normalisation and weights
    (:mod:`slidewatch.training.init_from`); None trains from scratch."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(str(d) for d in self.data))
        if not isinstance(self.bands, str):
            object.__setattr__(self, "bands", ",".join(self.bands))
        object.__setattr__(self, "percentiles", tuple(float(p) for p in self.percentiles))
        _check(self)

    @property
    def band_names(self) -> tuple[str, ...]:
        """The resolved band names."""
        return resolve_bands(self.bands)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (``None`` values are ignored, as from the CLI)."""
        _check_keys(changes, "override")
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-able values."""
        d = dataclasses.asdict(self)
        d["data"] = list(self.data)
        d["percentiles"] = list(self.percentiles)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], origin: str = "configuration") -> TrainConfig:
        """Build from a mapping; unknown keys raise ConfigError listing the valid ones."""
        if not isinstance(d, dict):
            raise ConfigError(f"{origin}: expected a mapping of options, got {type(d).__name__}")
        _check_keys(d, origin)
        values = dict(d)
        if values.get("arch_options", {}) is None:  # an empty YAML mapping
            values["arch_options"] = {}
        if isinstance(values.get("data"), str):
            values["data"] = (values["data"],)
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{origin}: {exc}; fix the value") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        """Read a YAML file of options (see :class:`TrainConfig` for the keys)."""
        return cls.from_dict(read_yaml(path), origin=str(path))

    def to_yaml(self, path: str | Path) -> Path:
        """Write the resolved configuration (atomically)."""
        return write_yaml(path, self.to_dict())


def field_names() -> tuple[str, ...]:
    """The valid configuration keys."""
    return tuple(f.name for f in dataclasses.fields(TrainConfig))


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file with clear errors."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration ({exc}); check the path") from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML ({exc}); fix the syntax") from None


def write_yaml(path: str | Path, data: Any) -> Path:
    """Write ``data`` as YAML to ``path`` through a temporary file and a rename."""
    return write_text_atomic(Path(path), yaml.safe_dump(data, sort_keys=False))


def _check_keys(d: dict[str, Any], origin: str) -> None:
    unknown = sorted(set(d) - set(field_names()))
    if unknown:
        raise ConfigError(
            f"{origin}: unknown option(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(field_names())}"
        )


def _choice(value: object, name: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{name} {value!r} is not valid; choose one of {', '.join(valid)}")


def _check(c: TrainConfig) -> None:
    _choice(c.loss, "loss", LOSSES)
    _choice(c.normalization, "normalization", NORMALIZATIONS)
    _choice(c.logger, "logger", LOGGERS)
    _choice(c.device, "device", DEVICES)
    _choice(c.precision, "precision", PRECISIONS)
    if c.split not in SPLITS and not c.split.endswith(".json"):
        raise ConfigError(
            f"split {c.split!r} is not valid; use random, official or a split file (.json)"
        )
    if isinstance(c.beta, str) and c.beta != "auto":
        raise ConfigError(f"beta {c.beta!r} is not valid; give a positive number or 'auto'")
    if not isinstance(c.beta, str) and not c.beta > 0:
        raise ConfigError(f"beta must be positive, got {c.beta}; give a number > 0 or 'auto'")
    if not 0.0 <= c.alpha <= 1.0:
        raise ConfigError(f"alpha must lie in [0, 1], got {c.alpha}; fix the value")
    if c.epochs < 1 or c.batch_size < 1 or c.lr_step_epochs < 1:
        raise ConfigError("epochs, batch_size and lr_step_epochs must be at least 1")
    if c.lr <= 0 or c.patience < 0 or c.num_workers < 0:
        raise ConfigError("lr must be positive; patience and num_workers must be >= 0")
    if not 0.0 < c.val_fraction < 1.0:
        raise ConfigError(f"val_fraction must lie in (0, 1), got {c.val_fraction}")
    if not 0.0 < c.threshold < 1.0:
        raise ConfigError(f"threshold must lie in (0, 1), got {c.threshold}")
    if len(c.percentiles) != 2 or not 0 <= c.percentiles[0] < c.percentiles[1] <= 100:
        raise ConfigError(f"percentiles must be two increasing values in [0, 100]: {c.percentiles}")
    if not isinstance(c.arch_options, dict):
        raise ConfigError("arch_options must be a mapping of option names to values")
    resolve_bands(c.bands)
