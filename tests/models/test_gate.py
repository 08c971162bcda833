"""The evaluation gate: a paired bootstrap over patches and the rule that judges it."""

from __future__ import annotations

import numpy as np
import pytest

from slidewatch.models.gate import (
    F1_MARGIN,
    Scores,
    Verdict,
    compare_counts,
    comparison_from_dict,
    f1_of,
    judge,
    paired_bootstrap,
)


def _counts(tp: list[int], fp: list[int], fn: list[int]) -> np.ndarray:
    return np.array([[a, b, c, 1000] for a, b, c in zip(tp, fp, fn, strict=True)])


def test_f1_of_summed_counts_is_the_pixel_definition() -> None:
    counts = _counts([10, 0], [5, 5], [5, 0])
    assert f1_of(counts.sum(0)) == pytest.approx(2 * 10 / (2 * 10 + 10 + 5))
    assert f1_of(np.zeros(4)) == 0.0


def test_a_clearly_better_model_is_better_and_the_reverse_worse() -> None:
    rng = np.random.default_rng(0)
    n = 30
    good = _counts(list(rng.integers(40, 60, n)), list(rng.integers(0, 10, n)),
                   list(rng.integers(0, 10, n)))  # fmt: skip
    bad = _counts(list(rng.integers(5, 15, n)), list(rng.integers(30, 50, n)),
                  list(rng.integers(30, 50, n)))  # fmt: skip
    diff, (low, high) = paired_bootstrap(good, bad, 500, seed=1)
    assert diff > 0 and 0 < low <= diff <= high
    assert judge(diff, (low, high)) == Verdict.BETTER
    back, interval = paired_bootstrap(bad, good, 500, seed=1)
    assert back == pytest.approx(-diff) and judge(back, interval) == Verdict.WORSE


def test_the_same_model_is_not_worse_and_the_margin_decides_small_drops() -> None:
    same = _counts([10, 20, 30], [1, 2, 3], [3, 2, 1])
    diff, interval = paired_bootstrap(same, same, 200)
    assert diff == 0 and interval == (0.0, 0.0)
    assert judge(diff, interval) == Verdict.NOT_WORSE
    assert judge(-F1_MARGIN / 2, (-0.05, 0.02)) == Verdict.NOT_WORSE
    assert judge(-F1_MARGIN * 2, (-0.05, 0.02)) == Verdict.WORSE


def test_a_comparison_reads_back_from_its_json() -> None:
    s = Scores("a", "h1", {"f1": 0.5}, {"dice": 0.4}, 0.5)
    t = Scores("b", "h2", {"f1": 0.4}, {"dice": 0.5}, 0.5)
    c = compare_counts(s, t, _counts([5, 6], [1, 1], [1, 1]), _counts([4, 5], [2, 2], [2, 2]),
                       "/bench", 100, scored="all")  # fmt: skip
    assert comparison_from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="N×4"):
        paired_bootstrap(np.zeros((2, 4)), np.zeros((3, 4)))
