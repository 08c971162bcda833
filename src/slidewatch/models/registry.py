"""The model registry: an explicit table of name → builder.

Every builder takes ``in_channels`` plus keyword options and returns an ``nn.Module`` that
maps N×C×H×W input (H and W multiples of 32) to N×1×H×W logits. Options are checked
against the builder's signature so that a typo is an error, not a silent default.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from torch import nn

from slidewatch.errors import ConfigError, unknown_name
from slidewatch.models.smp_models import build_segformer, build_smp_unet
from slidewatch.models.unet import UNet


@dataclass(frozen=True)
class ModelEntry:
    """One registered architecture."""

    builder: Callable[..., nn.Module]
    """Called as ``builder(in_channels, **options)``."""
    description: str
    """One line shown by ``slidewatch models architectures``."""


MODELS: dict[str, ModelEntry] = {
    "unet": ModelEntry(
        UNet, "vanilla U-Net (Ronneberger 2015), options: base_width=64, bilinear=False"
    ),
    "unet-resnet34": ModelEntry(
        partial(build_smp_unet, encoder_name="resnet34"),
        "U-Net with a ResNet-34 encoder (smp), options: encoder_weights=None",
    ),
    "unet-mobilenetv2": ModelEntry(
        partial(build_smp_unet, encoder_name="mobilenet_v2"),
        "U-Net with a MobileNetV2 encoder (smp), options: encoder_weights=None",
    ),
    "segformer": ModelEntry(
        build_segformer,
        "SegFormer, MiT encoder + all-MLP decoder (smp), options: encoder_name=mit_b0..mit_b5",
    ),
}
"""Registered architectures, in the order ``slidewatch models architectures`` lists them."""


def model_names() -> list[str]:
    """Names of the registered architectures."""
    return list(MODELS)


def model_options(name: str) -> list[str]:
    """Keyword options accepted by the architecture ``name``."""
    params = inspect.signature(_entry(name).builder).parameters
    return [p for p in params if p != "in_channels"]


def _entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise unknown_name("model", name, model_names())
    return MODELS[name]


def build_model(name: str, in_channels: int, **options: Any) -> nn.Module:
    """Build the architecture ``name`` for ``in_channels`` input bands (logits N×1×H×W).

    Raises RegistryError for an unknown name and ConfigError for a bad option.
    """
    entry = _entry(name)
    if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
        raise ConfigError(f"in_channels must be a positive integer, got {in_channels!r}")
    valid = model_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for model {name!r}; "
            f"valid options: {', '.join(valid) or 'none'}"
        )
    return entry.builder(in_channels, **options)
