"""Running sums of one evaluation and the metrics document made from them: confusion
counts (pixel-summed over the whole set, the benchmark's definition), the per-patch mean,
the paper's three losses from pixel sums (independent of the batch size), and the
probability histograms calibration reads."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from slidewatch.losses import DICE_EPS, dice_from_sums
from slidewatch.metrics import confusion_counts, per_patch_scores, scores_from_counts
from slidewatch.threshold import is_landslide
from slidewatch.training.calibration import HIST_BINS, PatchHistogram

LOSS_SUMS = ("intersection", "prob_sum", "target_sum", "wce_sum", "pixels")
"""The pixel sums the reported losses are computed from (over the whole evaluated set)."""


def loss_sums(prob: np.ndarray, mask: np.ndarray, beta: float) -> np.ndarray:
    """The :data:`LOSS_SUMS` of one batch, in float64 (probabilities clipped to 1e-7)."""
    p = np.clip(prob.astype(np.float64), 1e-7, 1 - 1e-7)
    y = mask.astype(np.float64)
    wce = -(beta * y * np.log(p) + (1 - y) * np.log1p(-p))
    return np.array([(p * y).sum(), p.sum(), y.sum(), wce.sum(), float(y.size)])


def losses_from_sums(sums: np.ndarray, alpha: float) -> dict[str, float]:
    """Dice-WCE, WCE and Dice of the whole set: WCE is the mean over all pixels, Dice the
    soft Dice of the summed intersection and sums, so neither depends on the batch size."""
    inter, prob_sum, target_sum, wce_sum, pixels = (float(v) for v in sums)
    wce = wce_sum / pixels if pixels else 0.0
    dice = float(
        dice_from_sums(
            torch.tensor(inter), torch.tensor(prob_sum), torch.tensor(target_sum), DICE_EPS
        )
    )
    return {"dice_wce": (1 - alpha) * wce + alpha * dice, "wce": wce, "dice": dice}


@dataclasses.dataclass
class Accumulator:
    """Running sums over the evaluated patches (mutable, local to one evaluation)."""

    beta: float = 1.0
    counts: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    )
    per_patch_sum: dict[str, float] = dataclasses.field(default_factory=dict)
    sums: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(len(LOSS_SUMS)))
    n: int = 0
    hist_pos: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(HIST_BINS, np.int64))
    hist_neg: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(HIST_BINS, np.int64))
    patch_hists: dict[str, PatchHistogram] | None = None
    """Per patch key, when kept (calibration): its probability histograms."""

    def add(self, prob: np.ndarray, mask: np.ndarray, threshold: float) -> None:
        """Add one batch (N×H×W probabilities and masks)."""
        pred = is_landslide(prob, threshold)
        for k, v in confusion_counts(pred, mask).items():
            self.counts[k] += int(v)
        for name, score in per_patch_scores(pred, mask).items():
            self.per_patch_sum[name] = self.per_patch_sum.get(name, 0.0) + score * len(prob)
        self.sums += loss_sums(prob, mask, self.beta)
        self.n += len(prob)
        bins = np.minimum((prob * HIST_BINS).astype(np.int64), HIST_BINS - 1)
        positive = mask.astype(bool)
        self.hist_pos += np.bincount(bins[positive], minlength=HIST_BINS)
        self.hist_neg += np.bincount(bins[~positive], minlength=HIST_BINS)


def summarize(acc: Accumulator, threshold: float, alpha: float) -> dict[str, Any]:
    """The metrics document of one evaluation."""
    pixel = {k: float(v) for k, v in scores_from_counts(acc.counts).items()}
    per_patch = {k: v / max(acc.n, 1) for k, v in acc.per_patch_sum.items()}
    return {
        "n_patches": acc.n,
        "threshold": threshold,
        "pixel": pixel,
        "counts": dict(acc.counts),
        "per_patch_mean": per_patch,
        "losses": losses_from_sums(acc.sums, alpha),
        "loss_aggregation": "pixel sums over the whole set (independent of --batch-size)",
    }
