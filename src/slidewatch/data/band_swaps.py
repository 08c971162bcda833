"""Swapped bands or data from elsewhere? The band-order finding of the data contract.

When two Sentinel-2 bands whose order was clear in training (one brighter in at least
:data:`ORDER_CLEAR` of the pixels, in raw units) are clearly in the opposite order in the
input, either the bands were named in the wrong order (``--band-order``) or the input comes
from elsewhere: another processing level (blue outshines green and red at top of atmosphere,
L1C, not at the surface, L2A), another sensor, region or season. Band order alone cannot tell
these apart: the real L4S patches (top of atmosphere) and the Chittagong tiles (surface
reflectance) reverse the same pairs.

So every reordering of the bands involved is tried on the input's statistics, and the bands
are called **swapped** only when the best reordering makes the input match the training
statistics at least :data:`SWAP_MARGIN` times better than the order given and leaves no
clear pair reversed. Otherwise the input **differs** from the training data. Reordering is
exact on the statistics: in raw units a band keeps its values whatever name it is read
under, so its percentiles and pairwise shares just move with it.

The distance (:func:`order_distance`) adds two terms over the bands a reordering moves: the
mean absolute difference of log raw quartiles (p25, p50, p75), after removing the input's
common brightness shift (the median over all shared optical bands of the log ratio of
medians: a brighter or darker scene is not a swap), and the mean absolute difference of the
pairwise "brighter than" shares. :data:`SWAP_MARGIN` and :data:`LEVEL_MARGIN` were chosen by
measurement on the real data (docs/contract.md, ``bench/contract_margin.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from slidewatch.bands import BAND_NAMES, scale_vector
from slidewatch.data.band_stats import BandStats

ORDER_CLEAR = 0.8
"""A pair is ordered when one band is brighter in at least this share of pixels."""
SWAP_MARGIN = 8.0
"""'Swapped' needs the best reordering to fit at least this many times better than the
given order, both terms added (docs/contract.md: correct real sources reach 10.1 against a
synthetic-trained model, true swaps 8.8 or more, so the levels decide; see below)..."""
LEVEL_MARGIN = 5.0
"""... and the levels (quartiles) alone at least this many times better: the shares alone
cannot tell a swap from another processing level (docs/contract.md: correct real sources
reach 4.1, true swaps that move the bands' levels 6.7 or more)."""
DISTANCE_FLOOR = 0.01
"""Distances below this count as this (a near-perfect fit does not divide by ~0)."""
MAX_PERMUTED = 5
"""Up to this many bands involved, every reordering is tried (120); beyond, exchanges of
two bands only."""
CENTRAL = slice(1, 4)
"""The percentiles the distance compares: p25, p50, p75 (p2 and p98 of a sample are noisy:
with them, correct real sources came within 1.2× of the margin on single tiles)."""
RAW_FLOOR = 1.0
"""Raw values below one digital number count as one (logarithms of dark pixels)."""
_S2_BANDS = frozenset(BAND_NAMES[:12])


@dataclass(frozen=True)
class Flip:
    """A pair of bands whose clear training order is reversed in the input."""

    first: str
    second: str
    trained: float
    """Share of training pixels in which ``first`` > ``second`` (raw units)."""
    found: float
    """The same share in the input."""

    def text(self) -> str:
        """``B2 > B4 in 8% of the training pixels but 90% of these``."""
        return (
            f"{self.first} > {self.second} in {self.trained:.0%} of the training pixels but "
            f"{self.found:.0%} of these"
        )


@dataclass(frozen=True)
class OrderVerdict:
    """The band-order finding for one input against one model's training statistics."""

    flips: tuple[Flip, ...]
    """Every clear training order reversed in the input."""
    bands: tuple[str, ...]
    """The bands of those pairs, in catalogue order."""
    reading: tuple[tuple[str, str], ...]
    """The best reordering: (name given, band it looks like) for each band that moves."""
    given: tuple[float, float]
    """:func:`order_distance` (levels, shares) over the moved bands, as named."""
    fitted: tuple[float, float]
    """The same after the reordering."""
    resolves: bool
    """Whether the reordering leaves no clear pair reversed."""

    @property
    def ratio(self) -> float:
        """How many times better the reordering fits (given / fitted, both terms added)."""
        return _ratio(sum(self.given), sum(self.fitted))

    @property
    def level_ratio(self) -> float:
        """How many times better the reordering fits the levels (percentiles) alone."""
        return _ratio(self.given[0], self.fitted[0])

    @property
    def swapped(self) -> bool:
        """Swapped bands, by the rule of the module docstring."""
        return self.resolves and self.ratio >= SWAP_MARGIN and self.level_ratio >= LEVEL_MARGIN


def _ratio(given: float, fitted: float) -> float:
    return max(given, DISTANCE_FLOOR) / max(fitted, DISTANCE_FLOOR)


def _optical(found: BandStats, expected: BandStats) -> list[str]:
    return [b for b in BAND_NAMES if b in _S2_BANDS and b in expected.bands and b in found.bands]


def _arrays(stats: BandStats, bands: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(log raw percentiles B×5, greater B×B) of ``bands``."""
    picked = stats.select(bands)
    raw = np.asarray(picked.quantiles) * scale_vector(bands)[:, None]
    return np.log(np.maximum(raw, RAW_FLOOR)), np.asarray(picked.greater)


def reversed_pairs(greater: np.ndarray, trained: np.ndarray, bands: Sequence[str]) -> list[Flip]:
    """The pairs of ``bands`` whose clear order in ``trained`` is reversed in ``greater``."""
    flips = []
    low = 1 - ORDER_CLEAR
    for i, j in itertools.combinations(range(len(bands)), 2):
        t, s = float(trained[i, j]), float(greater[i, j])
        if (t >= ORDER_CLEAR and s <= low) or (t <= low and s >= ORDER_CLEAR):
            flips.append(Flip(bands[i], bands[j], t, s))
    return flips


def order_distance(
    logq: np.ndarray, greater: np.ndarray, t_logq: np.ndarray, t_greater: np.ndarray,
    involved: Sequence[int],
) -> tuple[float, float]:  # fmt: skip
    """How far the input is from training over the ``involved`` band indices: (levels,
    pairwise shares), the two terms of the module docstring."""
    diff = logq - t_logq
    diff = diff - np.median(diff[:, 2])  # the common brightness shift is not a swap
    levels = float(np.abs(diff[list(involved), CENTRAL]).mean())
    n = len(logq)
    pairs = [(i, j) for i in involved for j in range(n) if j != i]
    shares = float(np.mean([abs(greater[i, j] - t_greater[i, j]) for i, j in pairs]))
    return levels, shares


def _reorderings(involved: Sequence[int]) -> Iterator[dict[int, int]]:
    """Every reordering of ``involved`` (slot -> index read into it), identity excluded."""
    if len(involved) <= MAX_PERMUTED:
        for perm in itertools.permutations(involved):
            if list(perm) != list(involved):
                yield dict(zip(involved, perm, strict=True))
        return
    for a, b in itertools.combinations(involved, 2):
        yield {a: b, b: a}


def order_verdict(found: BandStats, expected: BandStats) -> OrderVerdict | None:
    """Swapped or different (module docstring); None when no clear order is reversed or
    either side lacks pairwise statistics."""
    if found.greater is None or expected.greater is None:
        return None
    bands = _optical(found, expected)
    logq, greater = _arrays(found, bands)
    t_logq, t_greater = _arrays(expected, bands)
    flips = reversed_pairs(greater, t_greater, bands)
    if not flips:
        return None
    names = sorted({b for f in flips for b in (f.first, f.second)}, key=BAND_NAMES.index)
    involved = [bands.index(b) for b in names]
    best: OrderVerdict | None = None
    for mapping in _reorderings(involved):
        moved = [slot for slot, src in mapping.items() if slot != src]
        idx = [mapping.get(i, i) for i in range(len(bands))]
        given = order_distance(logq, greater, t_logq, t_greater, moved)
        fitted = order_distance(logq[idx], greater[np.ix_(idx, idx)], t_logq, t_greater, moved)
        left = reversed_pairs(greater[np.ix_(idx, idx)], t_greater, bands)
        reading = tuple((bands[mapping[slot]], bands[slot]) for slot in moved)
        verdict = OrderVerdict(tuple(flips), tuple(names), reading, given, fitted, not left)
        if best is None or (verdict.resolves, verdict.ratio) > (best.resolves, best.ratio):
            best = verdict
    return best
