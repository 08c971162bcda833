"""Pixel-summed metrics (the benchmark's definition) versus per-batch and per-patch means."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from slidewatch.errors import DatasetError
from slidewatch.metrics import (
    add_counts,
    confusion_counts,
    per_patch_scores,
    pixel_metrics,
    scores_from_counts,
)
from slidewatch.threshold import is_landslide


def crafted_batches() -> list[tuple[np.ndarray, np.ndarray]]:
    """Two batches of one 1×10 patch: a perfect small hit, then one hit and nine false alarms."""
    pred1, true1 = np.zeros((1, 1, 10), bool), np.zeros((1, 1, 10), np.uint8)
    pred1[0, 0, 0], true1[0, 0, 0] = True, 1
    pred2, true2 = np.ones((1, 1, 10), bool), np.zeros((1, 1, 10), np.uint8)
    true2[0, 0, 0] = 1
    return [(pred1, true1), (pred2, true2)]


def test_confusion_counts_by_hand() -> None:
    pred = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
    true = np.array([[1, 0, 1, 0], [1, 0, 0, 0]], np.uint8)
    assert confusion_counts(pred, true) == {"tp": 2, "fp": 1, "fn": 1, "tn": 4}
    assert confusion_counts(torch.from_numpy(pred), torch.from_numpy(true).long()) == {
        "tp": 2, "fp": 1, "fn": 1, "tn": 4,
    }  # fmt: skip


def test_scores_from_counts_by_hand() -> None:
    scores = scores_from_counts({"tp": 2, "fp": 1, "fn": 3, "tn": 10})
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 5)
    assert scores["f1"] == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))
    assert scores["iou"] == pytest.approx(2 / 6)


def test_zero_over_zero_is_zero() -> None:
    scores = scores_from_counts({"tp": 0, "fp": 0, "fn": 0, "tn": 100})
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "iou": 0.0}


def test_batch_summed_differs_from_batch_averaged() -> None:
    total = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    per_batch = []
    for pred, true in crafted_batches():
        counts = confusion_counts(pred, true)
        total = add_counts(total, counts)
        per_batch.append(scores_from_counts(counts))
    summed = scores_from_counts(total)
    assert total == {"tp": 2, "fp": 9, "fn": 0, "tn": 9}
    assert summed["precision"] == pytest.approx(2 / 11)
    averaged = np.mean([s["precision"] for s in per_batch])
    assert averaged == pytest.approx((1 + 0.1) / 2)
    assert summed["precision"] != pytest.approx(averaged)
    assert summed["f1"] == pytest.approx(4 / 13)


def test_per_patch_mean() -> None:
    (pred1, true1), (pred2, true2) = crafted_batches()
    scores = per_patch_scores(np.concatenate([pred1, pred2]), np.concatenate([true1, true2]))
    assert scores["precision"] == pytest.approx(0.55)
    assert scores["recall"] == pytest.approx(1.0)
    assert scores["iou"] == pytest.approx((1 + 0.1) / 2)


def test_torchmetrics_sums_over_batches_like_the_numpy_function() -> None:
    rng = np.random.default_rng(0)
    metrics = pixel_metrics(threshold=0.4)
    total = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for _ in range(4):
        prob = rng.uniform(0, 1, (3, 16, 16)).astype(np.float32)
        true = (rng.uniform(0, 1, (3, 16, 16)) < rng.uniform(0.05, 0.6)).astype(np.int64)
        metrics.update(torch.from_numpy(prob), torch.from_numpy(true))
        total = add_counts(total, confusion_counts(prob > 0.4, true))
    computed = {k: float(v) for k, v in metrics.compute().items()}
    expected = scores_from_counts(total)
    assert set(computed) == set(expected)
    for key, value in expected.items():
        assert computed[key] == pytest.approx(value, abs=1e-6), key


def test_crafted_example_through_torchmetrics() -> None:
    metrics = pixel_metrics()
    for pred, true in crafted_batches():
        metrics.update(torch.from_numpy(pred.astype(np.float32)), torch.from_numpy(true).long())
    assert float(metrics.compute()["precision"]) == pytest.approx(2 / 11)


def test_shape_mismatch_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="differs from target shape"):
        confusion_counts(np.zeros((2, 4)), np.zeros((4, 2)))
    with pytest.raises(DatasetError, match="expected two N×H×W arrays"):
        per_patch_scores(np.zeros((4, 4)), np.zeros((4, 4)))


def test_one_threshold_rule_at_p_equal_t() -> None:
    # p = t = 0.5 on a landslide: torchmetrics' own rule (p > t) gave F1 0, evaluate/detect 1.
    prob = torch.full((1, 4, 4), 0.5)
    target = torch.ones(1, 4, 4, dtype=torch.int64)
    collection = pixel_metrics(threshold=0.5)
    collection.update(prob, target)
    assert float(collection.compute()["f1"]) == 1.0
    decided = is_landslide(prob.numpy(), 0.5)
    assert scores_from_counts(confusion_counts(decided, target.numpy()))["f1"] == 1.0
    assert bool(is_landslide(torch.tensor(0.5), 0.5)) and not is_landslide(0.4999, 0.5)


def test_evaluate_and_the_figure_use_the_same_rule() -> None:
    from slidewatch.training.accumulator import Accumulator

    acc = Accumulator()
    acc.add(np.full((1, 2, 2), 0.5), np.ones((1, 2, 2), np.int64), 0.5)
    assert acc.counts["tp"] == 4
