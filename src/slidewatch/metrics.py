"""Precision, recall, F1 and IoU of the landslide class.

The benchmark's definition sums true/false positives and false negatives over **all pixels
of the evaluated set** and only then divides: accumulate :func:`confusion_counts` over
batches (:func:`add_counts`) and call :func:`scores_from_counts` once. Averaging per-batch or
per-patch scores gives another, usually different number; :func:`per_patch_scores` reports
the per-patch mean as a secondary figure. A ratio 0/0 counts as 0 throughout (as in
torchmetrics' ``zero_division=0``).

For training, :func:`pixel_metrics` returns a torchmetrics collection that sums the same
counts across batches (and devices) internally. Probabilities become decisions by the one
rule of :mod:`slidewatch.threshold` (``p >= t``) also there: the collection is fed decisions,
never probabilities (torchmetrics' own rule is ``p > t``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    BinaryF1Score,
    BinaryJaccardIndex,
    BinaryPrecision,
    BinaryRecall,
)

from slidewatch.errors import DatasetError
from slidewatch.threshold import is_landslide

COUNT_KEYS = ("tp", "fp", "fn", "tn")
SCORE_KEYS = ("precision", "recall", "f1", "iou")


def _as_numpy_bool(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x).astype(bool, copy=False)


def confusion_counts(pred_bool: Any, target: Any) -> dict[str, int]:
    """Pixel counts ``tp``, ``fp``, ``fn``, ``tn`` of the landslide class (numpy or torch)."""
    pred, true = _as_numpy_bool(pred_bool), _as_numpy_bool(target)
    if pred.shape != true.shape:
        raise DatasetError(
            f"prediction shape {pred.shape} differs from target shape {true.shape}; "
            "compare each prediction with the mask of the same patch"
        )
    tp = int(np.count_nonzero(pred & true))
    fp = int(np.count_nonzero(pred & ~true))
    fn = int(np.count_nonzero(~pred & true))
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(pred.size) - tp - fp - fn}


def add_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """Element-wise sum of two count dicts (to accumulate over batches)."""
    return {k: int(a.get(k, 0)) + int(b.get(k, 0)) for k in COUNT_KEYS}


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def scores_from_counts(counts: dict[str, int]) -> dict[str, float]:
    """Precision, recall, F1 and IoU from summed counts (0/0 → 0)."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
    }


def per_patch_scores(pred_bool: Any, target: Any) -> dict[str, float]:
    """Mean over patches (axis 0 of N×H×W) of each patch's own scores (0/0 → 0)."""
    pred, true = _as_numpy_bool(pred_bool), _as_numpy_bool(target)
    if pred.ndim != 3 or pred.shape != true.shape:
        raise DatasetError(
            f"expected two N×H×W arrays, got {pred.shape} and {true.shape}; stack the patches"
        )
    rows = [scores_from_counts(confusion_counts(p, t)) for p, t in zip(pred, true, strict=True)]
    return {k: float(np.mean([r[k] for r in rows])) if rows else 0.0 for k in SCORE_KEYS}


class ThresholdedMetrics(MetricCollection):
    """A metric collection updated with probabilities, decided by :func:`is_landslide`."""

    def __init__(self, metrics: dict[str, Any], threshold: float) -> None:
        super().__init__(metrics)
        self.threshold = float(threshold)

    def update(self, probability: torch.Tensor, target: torch.Tensor) -> None:  # type: ignore[override]
        """Add a batch: probabilities and integer targets of the same shape."""
        super().update(is_landslide(probability, self.threshold).long(), target)


def pixel_metrics(threshold: float = 0.5) -> MetricCollection:
    """torchmetrics collection (precision, recall, f1, iou) over pixel-summed counts.

    Update it with probabilities N×H×W (or N×1×H×W) and integer targets of the same shape;
    a pixel counts as landslide when ``p >= threshold`` (:func:`is_landslide`).
    """
    return ThresholdedMetrics(
        {
            "precision": BinaryPrecision(),
            "recall": BinaryRecall(),
            "f1": BinaryF1Score(),
            "iou": BinaryJaccardIndex(),
        },
        threshold,
    )
