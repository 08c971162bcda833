"""Builders for the segmentation-models-pytorch architectures of the registry.

smp adapts the first convolution of every encoder (MiT included, since smp 0.5) to any
number of input channels, so no patching is needed here. Encoder weights are never
downloaded unless the caller asks for them with ``encoder_weights="imagenet"``; smp then
fetches them from the Hugging Face hub, and a failed download becomes a ModelError that
says how to proceed offline.
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
from torch import nn

from slidewatch.errors import ConfigError, ModelError

SEGFORMER_ENCODERS = ("mit_b0", "mit_b1", "mit_b2", "mit_b3", "mit_b4", "mit_b5")
"""The Mix Transformer encoders a SegFormer may use (b0 smallest)."""


def _build(
    arch: type[nn.Module], encoder_name: str, in_channels: int, encoder_weights: str | None
) -> nn.Module:
    try:
        return arch(
            encoder_name=encoder_name,
            encoder_weights=encoder_weights,
            in_channels=in_channels,
            classes=1,
        )
    except KeyError as exc:  # smp: unknown encoder, or weights it does not offer
        message = exc.args[0] if exc.args else str(exc)
        raise ConfigError(f"{message}; choose one of the names listed") from None
    except OSError as exc:  # huggingface_hub download and cache errors derive from OSError
        raise ModelError(
            f"could not download {encoder_weights} weights for {encoder_name} (no network?): "
            f"{exc}. Train from scratch with encoder_weights=None, or pre-download the weights "
            "into the Hugging Face cache (HF_HOME) on a machine with network access"
        ) from None


def build_smp_unet(
    in_channels: int, encoder_name: str = "resnet34", encoder_weights: str | None = None
) -> nn.Module:
    """smp U-Net with the given encoder; one output channel of logits."""
    return _build(smp.Unet, encoder_name, in_channels, encoder_weights)


def build_segformer(
    in_channels: int, encoder_name: str = "mit_b0", encoder_weights: str | None = None
) -> nn.Module:
    """SegFormer: a Mix Transformer encoder with the all-MLP decoder (smp.Segformer)."""
    if encoder_name not in SEGFORMER_ENCODERS:
        raise ConfigError(
            f"segformer encoder {encoder_name!r} is not a Mix Transformer; "
            f"choose one of {', '.join(SEGFORMER_ENCODERS)}"
        )
    return _build(smp.Segformer, encoder_name, in_channels, encoder_weights)
