"""Fine-tuning from an existing model (``train --init-from MODEL``).

A reviewed batch should improve the model an area is watched with, not start over. The run
takes the model's architecture, options and bands (given ones must match them: its weights
fit no other), its normalisation (the weights learnt on inputs scaled that way; statistics
of a small new batch would shift them) and its threshold unless one is given, and starts
from its weights. Checked before torch is imported (:func:`check_init`); nothing here but
:func:`load_init_weights` needs torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slidewatch.errors import ConfigError
from slidewatch.models.modelfile import ModelSpec, read_spec
from slidewatch.training.config import TrainConfig

if TYPE_CHECKING:
    from torch import nn


def init_spec(config: TrainConfig) -> ModelSpec | None:
    """The description of the model the run starts from (None: from scratch)."""
    return read_spec(Path(config.init_from)) if config.init_from else None


def inherit(config: TrainConfig, given: set[str]) -> TrainConfig:
    """``config`` with what the ``--init-from`` model decides and the user did not give
    (option names in ``given``): architecture, options, bands, threshold."""
    spec = init_spec(config)
    if spec is None:
        return config
    taken = {"arch": spec.architecture, "arch_options": dict(spec.options),
             "bands": ",".join(spec.bands), "threshold": spec.threshold}  # fmt: skip
    return config.replace(**{k: v for k, v in taken.items() if k not in given})


def check_init(config: TrainConfig) -> None:
    """ConfigError naming each difference between the run and the ``--init-from`` model."""
    spec = init_spec(config)
    if spec is None:
        return
    where = config.init_from
    if config.arch != spec.architecture:
        raise ConfigError(
            f"--init-from {where} is a {spec.architecture!r} model but the run trains "
            f"{config.arch!r}; fine-tuning keeps the architecture: drop --arch or pass "
            f"--arch {spec.architecture}"
        )
    options = {k: v for k, v in spec.options.items() if k != "encoder_weights"}
    asked = {k: v for k, v in config.arch_options.items() if k != "encoder_weights"}
    if asked != options:
        raise ConfigError(
            f"--init-from {where} was built with options {options} but the run asks for "
            f"{asked}; drop --arch-option to keep the model's"
        )
    if config.band_names != spec.bands:
        raise ConfigError(
            f"--init-from {where} reads bands {','.join(spec.bands)} but the run uses "
            f"{','.join(config.band_names)}; the bands (and their order) must match: drop "
            f"--bands or pass --bands {','.join(spec.bands)}"
        )


def load_init_weights(model: nn.Module, config: TrainConfig) -> ModelSpec | None:
    """Load the ``--init-from`` weights into ``model`` (the same architecture); its spec."""
    if not config.init_from:
        return None
    from slidewatch.models.modelfile import load_model

    source, spec = load_model(Path(config.init_from))
    model.load_state_dict(source.state_dict(), strict=True)
    return spec
