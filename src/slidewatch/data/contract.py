"""The data contract: do the values fed to a model look like the values it was trained on?

A model file carries per-band statistics of its training split (:class:`BandStats`:
percentiles on the L4S scale, and for each pair of Sentinel-2 bands the share of pixels in
which one is brighter than the other, in raw units). At ``detect`` and ``evaluate`` time the
same statistics are sampled from the input and :func:`compare` applies these rules:

- **scale**: a band's 98th percentile is more than :data:`SCALE_FACTOR` times larger or
  smaller than in training (``dem``: 100 times larger, see :data:`SCALE_LIMITS`): raw
  digital numbers read as L4S, slope in radians, a band scaled twice;
- **range**: a band's median lies more than :data:`SHIFT_WIDTHS` training ranges (p2-p98)
  away from the training median (another unit or offset, a wrong band); not for ``dem``
  and ``B10``;
- **swapped** / **differs** (judged only when no band breaks the scale rule): two
  Sentinel-2 bands whose order was clear in training are clearly in the opposite order in
  the input. *Swapped* when exchanging the bands makes the input match the training
  statistics far better (:mod:`slidewatch.data.band_swaps`); otherwise the input *differs*
  from the training data (another region, sensor or processing level): the message gives
  per-band z-scores and no advice to reorder, and it stays a warning under ``strict``.

Old model files without statistics are checked against their normalisation
(:func:`stats_from_normalization`: scale and range rules only, on approximate ranges).
Pure numpy; no torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slidewatch.bands import BAND_NAMES
from slidewatch.data.band_stats import (  # re-exported: the contract's public names
    PERCENTILES,
    SAMPLE_PIXELS,
    BandStats,
    band_stats,
    patch_band_stats,
    stats_from_normalization,
)
from slidewatch.data.band_swaps import ORDER_CLEAR, SWAP_MARGIN, OrderVerdict, order_verdict
from slidewatch.data.layout import PatchRef
from slidewatch.data.normalization import Normalization
from slidewatch.errors import DataContractError

__all__ = [
    "ORDER_CLEAR", "PERCENTILES", "SAMPLE_PIXELS", "SWAP_MARGIN", "BandStats", "ContractIssue",
    "DataContractWarning", "band_stats", "check", "check_patches", "compare", "enforce",
    "patch_band_stats", "report", "stats_from_normalization",
]  # fmt: skip

SCALE_FACTOR = 20.0
"""Scale rule: p98 ratio beyond this either way (raw/L4S is 450-1900, degrees/radians 57;
a 128-px patch of real L4S data stays within 0.15-1.5 of the training p98)."""
SCALE_LIMITS: dict[str, tuple[float, float]] = {"dem": (100.0, float("inf"))}
"""Per-band (larger, smaller) factors where :data:`SCALE_FACTOR` does not fit: a scene's
elevation depends on where it is (a real lowland L4S patch has 1/20 of the training p98), so
only raw metres read as L4S (773× at equal elevation) are looked for."""
SHIFT_WIDTHS = 1.0
"""Range rule: median shift in training ranges (single real L4S patches shift up to 0.65)."""
RANGE_EXEMPT = frozenset({"dem", "B10"})
"""Bands the range rule skips: a scene's elevation depends on where it is, and the cirrus band
on thin cloud (medians 9× the training median in real L4S patches), not on a mistake."""
ADVISORY_RULES = frozenset({"differs"})
"""Findings that warn but never stop a ``strict`` run: data from elsewhere is not a mistake."""


class DataContractWarning(UserWarning):
    """The input's values do not look like the model's training data."""


@dataclass(frozen=True)
class ContractIssue:
    """One way the input does not look like the training data."""

    rule: str
    """``scale``, ``range``, ``swapped`` or ``differs``."""
    bands: tuple[str, ...]
    """The band(s) concerned."""
    message: str
    """What was expected, what was found, and what to check."""


def _scale_hint(band: str, larger: bool) -> str:
    if larger:
        return "raw values read as L4S? let --scale auto decide or pass --scale l4s"
    if band == "slope":
        return "slope in radians instead of degrees, or values divided twice (--scale none)?"
    return "values divided twice? pass --scale none for files already on the L4S scale"


def _band_issue(band: str, found: BandStats, expected: BandStats) -> ContractIssue | None:
    s = found.quantiles[found.bands.index(band)]
    t = expected.quantiles[expected.bands.index(band)]
    what = (
        f"band {band} (L4S scale, p2-p98): expected {expected.range_text(band)}, "
        f"found {found.range_text(band)}"
    )
    ratio = abs(s[-1]) / max(abs(t[-1]), 1e-9)
    larger, smaller = SCALE_LIMITS.get(band, (SCALE_FACTOR, SCALE_FACTOR))
    if ratio > larger or ratio < 1 / smaller:
        size = f"{ratio:,.0f}× larger" if ratio > 1 else f"{1 / ratio:,.0f}× smaller"
        return ContractIssue(
            "scale", (band,),
            f"{what}: values {size} than in training; {_scale_hint(band, ratio > 1)}",
        )  # fmt: skip
    width = max(t[-1] - t[0], 1e-9)
    if band not in RANGE_EXEMPT and abs(s[2] - t[2]) > SHIFT_WIDTHS * width:
        return ContractIssue(
            "range", (band,),
            f"{what}: the median lies over {SHIFT_WIDTHS:g} training range(s) away; another "
            "unit, offset, processing level, or another band in this slot? check --scale",
        )  # fmt: skip
    return None


def _ranges(found: BandStats, expected: BandStats, bands: Sequence[str]) -> str:
    return "; ".join(
        f"{b} expected {expected.range_text(b)}, found {found.range_text(b)}" for b in bands
    )  # L4S scale, p2-p98


def z_scores(found: BandStats, expected: BandStats) -> dict[str, float]:
    """Per band: (input median − training median) / training spread, the spread being the
    training interquartile range / 1.349 (a standard deviation for normal values)."""
    out = {}
    for band in expected.bands:
        if band in found.bands:
            t = expected.quantiles[expected.bands.index(band)]
            median = found.quantiles[found.bands.index(band)][2]
            out[band] = (median - t[2]) / max((t[3] - t[1]) / 1.349, 1e-9)
    return out


def _reading_text(verdict: OrderVerdict) -> str:
    pairs = dict(verdict.reading)
    if len(pairs) == 2 and all(pairs[b] == a for a, b in pairs.items()):
        a, b = sorted(pairs, key=BAND_NAMES.index)
        return f"exchanging {a} and {b}"
    return "reading " + ", ".join(f"{a} as {b}" for a, b in verdict.reading)


def _order_issues(found: BandStats, expected: BandStats) -> list[ContractIssue]:
    """One finding for the Sentinel-2 pairs whose clear training order is reversed."""
    verdict = order_verdict(found, expected)
    if verdict is None:
        return []
    flips = "; ".join(f.text() for f in verdict.flips)
    names = list(verdict.bands)
    if verdict.swapped:
        moved = sorted({a for a, _ in verdict.reading}, key=BAND_NAMES.index)
        return [ContractIssue(
            "swapped", tuple(moved),
            f"bands {', '.join(moved[:-1])} and {moved[-1]} look swapped: {flips}; "
            f"{_reading_text(verdict)} fits the training data {verdict.ratio:.0f}× better "
            f"than the order given (a swap is called from {SWAP_MARGIN:g}×) "
            f"({_ranges(found, expected, moved)}); check --band-order",
        )]  # fmt: skip
    z = ", ".join(f"{b} {v:+.1f}" for b, v in z_scores(found, expected).items())
    return [ContractIssue(
        "differs", tuple(names),
        f"the values differ from the model's training data: {flips}; no exchange of bands "
        f"explains it (best {verdict.ratio:.1f}× better, a swap needs {SWAP_MARGIN:g}×), so "
        "the input likely comes from another region, sensor or processing level (e.g. "
        "surface reflectance where the model saw top-of-atmosphere values, or the reverse). Median "
        f"z-scores against training: {z}. Expect lower accuracy; a model trained on data "
        "like this input (or fine-tuned on it) fits better",
    )]  # fmt: skip


def compare(found: BandStats, expected: BandStats) -> list[ContractIssue]:
    """Every rule broken by ``found`` (the input) against ``expected`` (the training data)."""
    shared = [b for b in expected.bands if b in found.bands]
    issues = [i for b in shared if (i := _band_issue(b, found, expected)) is not None]
    if any(i.rule == "scale" for i in issues):
        return issues  # the order is judged in raw units, meaningless on the wrong scale
    return issues + _order_issues(found, expected)


def report(
    issues: Sequence[ContractIssue], found: BandStats | None, expected: BandStats | None
) -> dict[str, Any]:
    """The ``data_contract`` entry of ``summary.json`` / the evaluation metrics."""
    checked = expected is not None and found is not None
    return {
        "checked": checked,
        "basis": None if expected is None else (
            "normalisation" if expected.approximate else "training statistics"),
        "ok": not issues,
        "warnings": [i.message for i in issues],
        "bands": sorted({b for i in issues for b in i.bands}, key=BAND_NAMES.index),
        "findings": [{"rule": i.rule, "bands": list(i.bands)} for i in issues],
        "found": found.to_dict() if found is not None else None,
    }  # fmt: skip


def enforce(issues: Sequence[ContractIssue], source: str, strict: bool) -> None:
    """Warn (:class:`DataContractWarning`) for each issue, or raise them all when ``strict``."""
    if not issues:
        return
    fatal = [i for i in issues if i.rule not in ADVISORY_RULES]
    if strict and fatal:
        lines = "\n  ".join(i.message for i in fatal)
        raise DataContractError(
            f"{source}: the values do not look like the model's training data:\n  {lines}\n"
            "fix the band order or scaling, or run without --strict to proceed anyway"
        )
    for issue in issues:
        warnings.warn(f"{source}: {issue.message}", DataContractWarning, stacklevel=3)


def check(
    found: BandStats | None,
    trained: BandStats | None,
    normalization: Normalization,
    source: str,
    strict: bool = False,
) -> dict[str, Any]:
    """Compare ``found`` with the model's statistics (or its normalisation); warn or raise."""
    expected = trained if trained is not None else stats_from_normalization(normalization)
    if expected is not None and found is not None:
        expected = expected.select([b for b in expected.bands if b in found.bands])
    issues = compare(found, expected) if expected is not None and found is not None else []
    enforce(issues, source, strict)
    return report(issues, found, expected)


def check_patches(
    refs: Sequence[PatchRef], spec: Any, source: str, strict: bool = False
) -> dict[str, Any]:
    """:func:`check` of patches against the model ``spec`` (a ModelSpec) they are fed to."""
    found = patch_band_stats(refs, spec.bands)
    return check(found, spec.band_stats, spec.normalization, source, strict)
