"""The evaluation gate: is a new model version not worse than the current one?

Both versions are scored on the same benchmark patches; each patch contributes its pixel
counts (tp, fp, fn, tn), and F1 is computed from counts summed over the set (the benchmark's
definition). The uncertainty of the F1 difference comes from a **paired bootstrap over
patches**: the same resampled patches score both models, so what the two have in common
(hard patches, easy ones) cancels. The rule (:func:`judge`):

- ``better``: the 95 % interval of F1(new) − F1(current) lies above 0;
- ``worse``: the difference is below −:data:`F1_MARGIN`, or the interval lies below 0;
- ``not-worse`` otherwise (a drop within the margin whose interval reaches 0 is noise).

A version is promoted when it is not ``worse``. Pure numpy; no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

F1_MARGIN = 0.01
"""The largest F1 drop still judged noise when its bootstrap interval reaches 0."""
RESAMPLES = 2000
"""Bootstrap resamples of the benchmark's patches."""
CONFIDENCE = 0.95


class Verdict(StrEnum):
    BETTER = "better"
    NOT_WORSE = "not-worse"
    WORSE = "worse"


@dataclass(frozen=True)
class Scores:
    """One model's scores on the benchmark."""

    name: str
    hash: str
    pixel: dict[str, float]
    """Pixel-summed precision, recall, F1, IoU."""
    losses: dict[str, float]
    """The paper's losses (Dice-WCE, WCE, Dice) from set-wide sums."""
    threshold: float


@dataclass(frozen=True)
class Comparison:
    """Two versions scored on the same patches, and the paired bootstrap of their F1s."""

    new: Scores
    current: Scores
    benchmark: str
    """The benchmark folder(s), as given."""
    patches: int
    f1_difference: float
    """F1(new) − F1(current)."""
    interval: tuple[float, float]
    """95 % paired-bootstrap interval of the difference."""
    resamples: int
    verdict: Verdict
    scored: str = ""
    """Which patches were scored (the held-out benchmark, or all of a folder)."""

    @property
    def promotable(self) -> bool:
        return self.verdict != Verdict.WORSE

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["interval"] = list(self.interval)
        out["verdict"] = str(self.verdict)
        return out


def f1_of(counts: np.ndarray) -> np.ndarray:
    """F1 of summed counts; ``counts[..., :3]`` = tp, fp, fn (0/0 → 0)."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), 0.0)


def paired_bootstrap(
    new_counts: np.ndarray,
    current_counts: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, tuple[float, float]]:
    """F1(new) − F1(current) on all patches, and its percentile interval when the patches
    (rows of the N×4 count arrays, tp, fp, fn, tn) are resampled together."""
    new, cur = np.asarray(new_counts, np.float64), np.asarray(current_counts, np.float64)
    if new.shape != cur.shape or new.ndim != 2 or len(new) == 0:
        raise ValueError(f"count arrays of shapes {new.shape} and {cur.shape}: need N×4, N ≥ 1")
    diff = float(f1_of(new.sum(0)) - f1_of(cur.sum(0)))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(new), size=(resamples, len(new)))
    diffs = f1_of(new[picks].sum(1)) - f1_of(cur[picks].sum(1))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return diff, (float(low), float(high))


def judge(difference: float, interval: Sequence[float]) -> Verdict:
    """The gate's rule (module docstring)."""
    low, high = float(interval[0]), float(interval[1])
    if low > 0:
        return Verdict.BETTER
    if difference < -F1_MARGIN or high < 0:
        return Verdict.WORSE
    return Verdict.NOT_WORSE


def compare_counts(
    new: Scores,
    current: Scores,
    new_counts: np.ndarray,
    current_counts: np.ndarray,
    benchmark: str,
    resamples: int = RESAMPLES,
    seed: int = 0,
    scored: str = "",
) -> Comparison:
    """The :class:`Comparison` of two versions' per-patch counts on one benchmark."""
    diff, interval = paired_bootstrap(new_counts, current_counts, resamples, seed)
    return Comparison(new, current, benchmark, len(new_counts), diff, interval, resamples,
                      judge(diff, interval), scored)  # fmt: skip


def comparison_from_dict(d: Mapping[str, Any]) -> Comparison:
    """Inverse of :meth:`Comparison.to_dict` (a recorded comparison read back)."""
    return Comparison(
        Scores(**d["new"]), Scores(**d["current"]), str(d["benchmark"]), int(d["patches"]),
        float(d["f1_difference"]), (float(d["interval"][0]), float(d["interval"][1])),
        int(d["resamples"]), Verdict(d["verdict"]), str(d.get("scored", "")),
    )  # fmt: skip
