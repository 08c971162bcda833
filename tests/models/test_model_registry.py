"""The contract every registered model honours, and the registry's errors."""

from __future__ import annotations

import huggingface_hub.errors
import pytest
import segmentation_models_pytorch.encoders as smp_encoders
import torch

from slidewatch.errors import ConfigError, ModelError, RegistryError
from slidewatch.models.registry import build_model, model_names, model_options
from slidewatch.models.unet import UNet

from .conftest import TINY_OPTIONS


def test_registry_holds_the_papers_four_models() -> None:
    assert model_names() == ["unet", "unet-resnet34", "unet-mobilenetv2", "segformer"]


@pytest.mark.parametrize("bands", [1, 4, 6, 14])
@pytest.mark.parametrize("name", model_names())
def test_model_contract(name: str, bands: int) -> None:
    torch.manual_seed(0)
    model = build_model(name, bands, **TINY_OPTIONS.get(name, {})).train()
    x = torch.randn(2, bands, 64, 64, requires_grad=True)
    logits = model(x)
    assert logits.shape == (2, 1, 64, 64)
    assert torch.isfinite(logits).all()
    logits.mean().backward()
    first_name, first = next(iter(model.named_parameters()))
    assert first.shape[1] == bands, first_name  # the first layer takes the bands
    assert first.grad is not None and first.grad.abs().sum() > 0, first_name
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unet_is_ronneberger_shaped() -> None:
    model = UNet(3)  # default width 64: 64, 128, 256, 512, 1024
    assert model.inc[0].out_channels == 64
    assert len(model.down) == 4 and len(model.up) == 4
    assert model.down[-1][0].out_channels == 1024
    assert isinstance(model.up[0].up, torch.nn.ConvTranspose2d)
    convs = [
        m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)
    ]
    assert len(convs) == 2 * 9  # two 3×3 convolutions on each of the nine levels


def test_unet_bilinear_option() -> None:
    model = build_model("unet", 2, base_width=4, bilinear=True)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.modules())
    assert model(torch.randn(1, 2, 32, 32)).shape == (1, 1, 32, 32)


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(RegistryError, match="unknown model 'unet3'; valid names: unet, unet-res"):
        build_model("unet3", 14)


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"base_widht.*valid options: base_width, bilinear"):
        build_model("unet", 14, base_widht=8)
    assert model_options("segformer") == ["encoder_name", "encoder_weights"]


@pytest.mark.parametrize("channels", [0, -3, 2.5, True])
def test_bad_band_count(channels: object) -> None:
    with pytest.raises(ConfigError, match="in_channels must be a positive integer"):
        build_model("unet", channels, base_width=4)  # type: ignore[arg-type]


def test_segformer_encoder_is_selectable() -> None:
    model = build_model("segformer", 4, encoder_name="mit_b1")
    assert model.encoder.patch_embed1.proj.out_channels == 64  # b1; b0 has 32
    with pytest.raises(ConfigError, match="not a Mix Transformer; choose one of mit_b0"):
        build_model("segformer", 4, encoder_name="resnet34")


def test_unknown_smp_encoder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Wrong encoder name `resnet3`"):
        build_model("unet-resnet34", 4, encoder_name="resnet3")


def test_no_download_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(smp_encoders, "hf_hub_download", forbidden)
    build_model("unet-mobilenetv2", 4)


def test_failed_weight_download_explains_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise huggingface_hub.errors.LocalEntryNotFoundError("cannot reach huggingface.co")

    monkeypatch.setattr(smp_encoders, "hf_hub_download", offline)
    with pytest.raises(ModelError) as info:
        build_model("unet-resnet34", 14, encoder_weights="imagenet")
    message = str(info.value)
    assert "could not download imagenet weights for resnet34 (no network?)" in message
    assert "encoder_weights=None" in message
