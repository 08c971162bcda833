"""The paper's losses, computed from logits and numerically stable.

With ŷ = sigmoid(logit), y ∈ {0, 1} and N pixels:

- BCE      = −1/N Σ (y·log ŷ + (1−y)·log(1−ŷ))
- WCE      = −1/N Σ (β·y·log ŷ + (1−y)·log(1−ŷ))   (β weighs the landslide class only)
- Dice     = 1 − 2|X∩Y| / (|X| + |Y|)               (soft: |X∩Y| = Σ ŷ·y, |X| = Σ ŷ, |Y| = Σ y,
                                                     over the whole batch, ε added above and below;
                                                     0 when the batch has no landslide pixel)
- WCE-Dice = (1−α)·WCE + α·Dice

``log ŷ`` and ``log(1−ŷ)`` are ``logsigmoid(x)`` and ``logsigmoid(−x)``, exact for logits of
any size. A natural β is the class imbalance of the training split, see
:func:`beta_from_fraction`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from slidewatch.errors import ConfigError, ModelError, unknown_name

DICE_EPS = 1e-6
"""Smoothing of the soft Dice (keeps the ratio finite; it does not decide empty masks)."""


def _flat(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if logits.ndim == 4 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.shape != target.shape:
        raise ModelError(
            f"logits of shape {tuple(logits.shape)} do not match target {tuple(target.shape)}; "
            "pass logits N×1×H×W or N×H×W and a target N×H×W"
        )
    return logits.float(), target.to(dtype=torch.float32)


def bce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy, mean over all pixels."""
    x, y = _flat(logits, target)
    return F.binary_cross_entropy_with_logits(x, y)


def wce_loss(logits: torch.Tensor, target: torch.Tensor, beta: float) -> torch.Tensor:
    """Weighted cross-entropy with weight ``beta`` on landslide pixels, mean over all pixels."""
    x, y = _flat(logits, target)
    return -(beta * y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean()


def dice_from_sums(
    intersection: torch.Tensor, prob_sum: torch.Tensor, target_sum: torch.Tensor, eps: float
) -> torch.Tensor:
    """Soft Dice loss from its three pixel sums (Σ ŷ·y, Σ ŷ, Σ y) over a batch or a whole set.

    A target without any landslide pixel scores loss 0, whatever the prediction: Dice is
    undefined there (the smoothing alone would give a near-perfect empty prediction a loss
    near 1: logits −10 on 2×128×128 scored 0.99999), and WCE still penalises its false
    positives. segmentation_models_pytorch's ``DiceLoss`` follows the same convention.
    """
    loss = 1 - (2 * intersection + eps) / (prob_sum + target_sum + eps)
    return loss * (target_sum > 0)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = DICE_EPS) -> torch.Tensor:
    """Soft Dice loss on probabilities, over the whole batch (0 for an empty target)."""
    x, y = _flat(logits, target)
    p = torch.sigmoid(x)
    return dice_from_sums((p * y).sum(), p.sum(), y.sum(), eps)


def wce_dice_loss(
    logits: torch.Tensor, target: torch.Tensor, alpha: float, beta: float
) -> torch.Tensor:
    """``(1 − alpha)·WCE + alpha·Dice``."""
    return (1 - alpha) * wce_loss(logits, target, beta) + alpha * dice_loss(logits, target)


def beta_from_fraction(landslide_fraction: float) -> float:
    """β = (1 − p) / p for a landslide pixel fraction p of the training split.

    This weighs both classes equally in WCE: with 2.2 % landslide pixels (the full L4S
    training set), β ≈ 44.5.
    """
    p = float(landslide_fraction)
    if not 0.0 < p < 1.0:
        raise ConfigError(
            f"landslide fraction must lie strictly between 0 and 1, got {p}; "
            "the training split needs both landslide and background pixels"
        )
    return (1.0 - p) / p


LOSS_NAMES = ("bce", "wce", "dice", "wce-dice")


class SegmentationLoss(nn.Module):
    """One of the paper's losses as a module: ``loss(logits, target) -> scalar``."""

    def __init__(self, name: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.name = name
        self.fn = fn

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss value (a scalar tensor)."""
        return self.fn(logits, target)

    def extra_repr(self) -> str:
        return self.name


def build_loss(name: str, alpha: float = 0.5, beta: float = 1.0) -> nn.Module:
    """The loss ``name`` (``bce``, ``wce``, ``dice``, ``wce-dice``) as a module."""
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must lie in [0, 1], got {alpha}")
    if not beta > 0.0:
        raise ConfigError(f"beta must be positive, got {beta}; use beta_from_fraction(p)")
    functions: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
        "bce": bce_loss,
        "wce": partial(wce_loss, beta=beta),
        "dice": dice_loss,
        "wce-dice": partial(wce_dice_loss, alpha=alpha, beta=beta),
    }
    if name not in functions:
        raise unknown_name("loss", name, LOSS_NAMES)
    return SegmentationLoss(name, functions[name])
