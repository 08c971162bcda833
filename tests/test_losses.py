"""The paper's losses against values computed by hand from the formulas."""

from __future__ import annotations

import math

import pytest
import torch

from slidewatch.errors import ConfigError, ModelError, RegistryError
from slidewatch.losses import (
    DICE_EPS,
    bce_loss,
    beta_from_fraction,
    build_loss,
    dice_loss,
    wce_dice_loss,
    wce_loss,
)

LOGITS = [2.0, -1.0, 0.5, -3.0]
TARGET = [1, 0, 0, 1]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def hand_wce(beta: float) -> float:
    terms = [
        beta * y * math.log(sigmoid(x)) + (1 - y) * math.log(1 - sigmoid(x))
        for x, y in zip(LOGITS, TARGET, strict=True)
    ]
    return -sum(terms) / len(terms)


def hand_dice() -> float:
    p = [sigmoid(x) for x in LOGITS]
    inter = sum(pi * y for pi, y in zip(p, TARGET, strict=True))
    return 1 - (2 * inter + DICE_EPS) / (sum(p) + sum(TARGET) + DICE_EPS)


def tensors(dtype: torch.dtype = torch.uint8) -> tuple[torch.Tensor, torch.Tensor]:
    logits = torch.tensor(LOGITS, dtype=torch.float64).reshape(1, 1, 2, 2)
    return logits, torch.tensor(TARGET, dtype=dtype).reshape(1, 2, 2)


def test_bce_by_hand() -> None:
    assert bce_loss(*tensors()).item() == pytest.approx(hand_wce(1.0), rel=1e-6)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.float32, torch.bool])
def test_wce_by_hand_weighs_the_landslide_class_only(dtype: torch.dtype) -> None:
    logits, target = tensors(dtype)
    value = wce_loss(logits, target, beta=3.0).item()
    assert value == pytest.approx(hand_wce(3.0), rel=1e-6)
    # β multiplies only the landslide terms: not 3 × BCE
    assert value != pytest.approx(3 * hand_wce(1.0), rel=1e-3)


def test_dice_by_hand() -> None:
    assert dice_loss(*tensors()).item() == pytest.approx(hand_dice(), rel=1e-6)


def test_wce_dice_by_hand() -> None:
    value = wce_dice_loss(*tensors(), alpha=0.3, beta=2.0).item()
    assert value == pytest.approx(0.7 * hand_wce(2.0) + 0.3 * hand_dice(), rel=1e-6)


def test_channel_dimension_is_optional() -> None:
    logits, target = tensors()
    assert wce_loss(logits[:, 0], target, 2.0).item() == wce_loss(logits, target, 2.0).item()


def test_dice_is_over_the_whole_batch() -> None:
    logits = torch.tensor([[[3.0, -3.0]], [[1.0, -2.0]]])  # two 1×2 patches
    target = torch.tensor([[[1, 0]], [[0, 0]]])  # the second patch holds no landslide
    p = [sigmoid(v) for v in (3.0, -3.0, 1.0, -2.0)]
    batch = 1 - (2 * p[0] + DICE_EPS) / (sum(p) + 1 + DICE_EPS)
    per_patch = [
        1 - (2 * p[0] + DICE_EPS) / (p[0] + p[1] + 1 + DICE_EPS),
        1 - DICE_EPS / (p[2] + p[3] + DICE_EPS),
    ]
    value = dice_loss(logits, target).item()
    assert value == pytest.approx(batch, rel=1e-6)
    assert value != pytest.approx(sum(per_patch) / 2, rel=1e-2)


def test_empty_mask_and_empty_prediction_cost_nothing() -> None:
    # Logits -10 (p = 4.5e-5) over 2×128×128 pixels sum to ~1.5, which the smoothing alone
    # scored 0.99999; the documented rule is 0 for a target without landslide pixels.
    logits, empty = torch.full((2, 128, 128), -10.0), torch.zeros(2, 128, 128)
    assert dice_loss(logits, empty).item() == 0.0
    assert build_loss("wce-dice", alpha=0.5)(logits, empty).item() < 1e-4


def test_an_empty_prediction_of_a_landslide_costs_the_whole_dice() -> None:
    target = torch.zeros(2, 128, 128)
    target[0, :8, :8] = 1
    assert dice_loss(torch.full((2, 128, 128), -10.0), target).item() > 0.99


@pytest.mark.parametrize("name", ["bce", "wce", "dice", "wce-dice"])
def test_extreme_logits_are_stable(name: str) -> None:
    logits = torch.tensor([100.0, -100.0, 100.0, -100.0]).reshape(1, 1, 2, 2).requires_grad_()
    target = torch.tensor([1, 0, 0, 1]).reshape(1, 2, 2)
    loss = build_loss(name, alpha=0.5, beta=2.0)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()  # type: ignore[arg-type]
    if name == "wce":
        # −log(1−ŷ(100)) ≈ 100 for the false positive, −2·log ŷ(−100) ≈ 200 for the miss
        assert loss.item() == pytest.approx((100 + 200) / 4, rel=1e-6)


def test_build_loss_matches_the_functions() -> None:
    logits, target = tensors()
    assert build_loss("bce")(logits, target).item() == bce_loss(logits, target).item()
    assert build_loss("wce", beta=4.0)(logits, target).item() == pytest.approx(hand_wce(4.0))
    assert build_loss("dice")(logits, target).item() == pytest.approx(hand_dice())
    value = build_loss("wce-dice", alpha=0.25, beta=4.0)(logits, target).item()
    assert value == pytest.approx(0.75 * hand_wce(4.0) + 0.25 * hand_dice())


def test_beta_from_fraction() -> None:
    assert beta_from_fraction(0.2) == pytest.approx(4.0)
    assert beta_from_fraction(0.022) == pytest.approx(0.978 / 0.022)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match="strictly between 0 and 1"):
            beta_from_fraction(bad)


def test_bad_loss_options() -> None:
    with pytest.raises(RegistryError, match="unknown loss 'focal'; valid names: bce, wce, dice"):
        build_loss("focal")
    with pytest.raises(ConfigError, match="alpha must lie in"):
        build_loss("wce-dice", alpha=1.5)
    with pytest.raises(ConfigError, match="beta must be positive"):
        build_loss("wce", beta=0.0)
    with pytest.raises(ModelError, match="do not match target"):
        bce_loss(torch.zeros(2, 1, 4, 4), torch.zeros(2, 4, 5))
