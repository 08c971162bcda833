"""Choosing a threshold on one set of patches and reporting it on another.

``evaluate --calibrate`` once chose the F1-optimal threshold on the validation split and
reported F1 on the same patches: an in-sample number that flatters the threshold (3
patches, chosen and scored on the same 3). Here the threshold is **chosen** on the model's
validation split (:func:`best_threshold` of its probability histograms) and **reported** on
patches it was not chosen on: a separate set (an official test split, or whatever
``--split`` names) or, when the scored patches are the choosing ones, by k-fold
cross-validation (:func:`cross_validated_counts`: each patch scored with a threshold chosen
on the other folds). Every decision here is ``bin >= k`` on histograms of resolution
1/:data:`HIST_BINS`, the calibration rule of ``is_landslide`` (docs/training.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

HIST_BINS = 1000
"""Probability bins of the calibration histogram (threshold resolution 0.001)."""
CV_FOLDS = 5
"""Folds of the cross-validated report (fewer when there are fewer patches)."""


@dataclass(frozen=True)
class PatchHistogram:
    """The probabilities of one patch's landslide and background pixels, binned."""

    positive: np.ndarray
    """Landslide pixels per probability bin (:data:`HIST_BINS`)."""
    negative: np.ndarray
    """Background pixels per bin."""


def patch_histogram(prob: np.ndarray, mask: np.ndarray) -> PatchHistogram:
    """Histograms of one patch's H×W probabilities split by its mask."""
    bins = np.minimum((prob * HIST_BINS).astype(np.int64), HIST_BINS - 1)
    positive = mask.astype(bool)
    return PatchHistogram(
        np.bincount(bins[positive], minlength=HIST_BINS),
        np.bincount(bins[~positive], minlength=HIST_BINS),
    )


def threshold_bin(threshold: float) -> int:
    """The first bin predicted landslide at ``threshold``."""
    return int(np.clip(round(threshold * HIST_BINS), 0, HIST_BINS - 1))


def counts_at(h: PatchHistogram, k: int) -> dict[str, int]:
    """Pixel counts when bins ``>= k`` are predicted landslide."""
    tp, fp = int(h.positive[k:].sum()), int(h.negative[k:].sum())
    return {"tp": tp, "fp": fp, "fn": int(h.positive.sum()) - tp, "tn": int(h.negative.sum()) - fp}


def best_threshold(hist_pos: np.ndarray, hist_neg: np.ndarray) -> tuple[float, float]:
    """The F1-optimal threshold (and its F1) from probability histograms of both classes;
    ties go to the threshold closest to 0.5."""
    # Predicting p >= k/BINS positive: tp = positives in bins >= k, fp likewise for negatives.
    tp = np.cumsum(hist_pos[::-1])[::-1].astype(np.float64)
    fp = np.cumsum(hist_neg[::-1])[::-1].astype(np.float64)
    fn = hist_pos.sum() - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    f1[0] = -1.0  # threshold 0 is not allowed
    thresholds = np.arange(len(hist_pos)) / len(hist_pos)
    # Among equally good thresholds, the one closest to 0.5 (the untuned default).
    tied = np.flatnonzero(f1 >= f1.max() - 1e-12)
    k = int(tied[np.argmin(np.abs(thresholds[tied] - 0.5))])
    return float(thresholds[k]), float(max(f1[k], 0.0))


def pooled_threshold(hists: Sequence[PatchHistogram]) -> tuple[float, float]:
    """:func:`best_threshold` of the summed histograms of ``hists``."""
    pos = np.sum([h.positive for h in hists], axis=0)
    neg = np.sum([h.negative for h in hists], axis=0)
    return best_threshold(pos, neg)


def fold_thresholds(
    hists: Mapping[str, PatchHistogram], seed: int = 0, folds: int = CV_FOLDS
) -> dict[str, float]:
    """Per patch key: the threshold chosen on the other folds (seeded folds of ``hists``;
    empty when fewer than two patches)."""
    keys = sorted(hists)
    k = min(folds, len(keys))
    if k < 2:
        return {}
    order = np.random.default_rng(seed).permutation(len(keys))
    fold_of = {keys[i]: pos % k for pos, i in enumerate(order.tolist())}
    out = {}
    for fold in range(k):
        others = [hists[key] for key in keys if fold_of[key] != fold]
        threshold, _ = pooled_threshold(others)
        out.update({key: threshold for key in keys if fold_of[key] == fold})
    return out


def cv_folds(n: int, folds: int = CV_FOLDS) -> int:
    """How many folds :func:`fold_thresholds` uses for ``n`` patches (0: too few)."""
    k = min(folds, n)
    return k if k >= 2 else 0
