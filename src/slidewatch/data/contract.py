"""The data contract: do the values fed to a model look like the values it was trained on?

A model file carries per-band statistics of its training split (:class:`BandStats`:
percentiles on the L4S scale, and for each pair of Sentinel-2 bands the share of pixels in
which one is brighter than the other, in raw units). At ``detect`` and ``evaluate`` time the
same statistics are sampled from the input and :func:`compare` applies three rules:

- **scale**: a band's 98th percentile is more than :data:`SCALE_FACTOR` times larger or
  smaller than in training (``dem``: 100 times larger, see :data:`SCALE_LIMITS`): raw
  digital numbers read as L4S, slope in radians, a band scaled twice;
- **range**: a band's median lies more than :data:`SHIFT_WIDTHS` training ranges (p2-p98)
  away from the training median (another unit or offset, a wrong band); not for ``dem``
  and ``B10``;
- **order** (judged only when no band breaks the scale rule): two Sentinel-2 bands whose
  order was clear in training (one brighter in at least :data:`ORDER_CLEAR` of the pixels)
  are clearly in the opposite order in the input (swapped bands, or another processing
  level: blue outshines red at top of atmosphere, not at the surface).

Old model files without statistics are checked against their normalisation
(:func:`stats_from_normalization`: scale and range rules only, on approximate ranges).
Pure numpy; no torch.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slidewatch.bands import BAND_NAMES, band_indices, resolve_bands, scale_vector
from slidewatch.data.layout import PatchRef
from slidewatch.data.normalization import Normalization
from slidewatch.data.stats import iter_images
from slidewatch.errors import DataContractError

PERCENTILES: tuple[float, ...] = (2.0, 25.0, 50.0, 75.0, 98.0)
"""The percentiles stored per band (p2 and p98 bound the 'range' named in messages)."""
SAMPLE_PIXELS = 20_000
"""Pixels per band the statistics are computed from (a seeded subsample)."""
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
ORDER_CLEAR = 0.8
"""Order rule: a pair is ordered when one band is brighter in at least this share of pixels."""
_S2_BANDS = frozenset(BAND_NAMES[:12])


class DataContractWarning(UserWarning):
    """The input's values do not look like the model's training data."""


@dataclass(frozen=True)
class BandStats:
    """Per-band value statistics of a sample of pixels (L4S scale)."""

    bands: tuple[str, ...]
    """Band names, in the order of ``quantiles`` and ``greater``."""
    quantiles: tuple[tuple[float, ...], ...]
    """Per band: the values at :data:`PERCENTILES`."""
    greater: tuple[tuple[float, ...], ...] | None
    """``greater[i][j]``: share of pixels in which band i exceeds band j in raw units."""
    pixels: int
    """Pixels sampled."""
    approximate: bool = False
    """Derived from a normalisation (old model files), not from pixels."""

    def select(self, bands: Sequence[str]) -> BandStats:
        """The same statistics restricted (and reordered) to ``bands``."""
        idx = band_indices(bands, self.bands)
        greater = None
        if self.greater is not None:
            greater = tuple(tuple(self.greater[i][j] for j in idx) for i in idx)
        quantiles = tuple(self.quantiles[i] for i in idx)
        names = tuple(self.bands[i] for i in idx)
        return BandStats(names, quantiles, greater, self.pixels, self.approximate)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (inverse of :meth:`from_dict`)."""
        return {
            "percentiles": list(PERCENTILES),
            "bands": list(self.bands),
            "quantiles": [[round(v, 6) for v in q] for q in self.quantiles],
            "greater": [[round(v, 4) for v in g] for g in self.greater] if self.greater else None,
            "pixels": self.pixels,
            "approximate": self.approximate,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BandStats:
        """Rebuild from :meth:`to_dict` output (KeyError/TypeError/ValueError if malformed)."""
        if tuple(float(p) for p in d["percentiles"]) != PERCENTILES:
            raise ValueError(f"statistics at percentiles {d['percentiles']}, not {PERCENTILES}")
        greater = d.get("greater")
        return cls(
            resolve_bands(list(d["bands"])),
            tuple(tuple(float(v) for v in q) for q in d["quantiles"]),
            tuple(tuple(float(v) for v in g) for g in greater) if greater else None,
            int(d.get("pixels", 0)),
            bool(d.get("approximate", False)),
        )

    def range_text(self, band: str) -> str:
        """``p2-p98 (median m)`` of ``band``, for messages."""
        q = self.quantiles[self.bands.index(band)]
        return f"{_num(q[0])}-{_num(q[-1])} (median {_num(q[2])})"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def band_stats(samples: np.ndarray, bands: Sequence[str], seed: int = 0) -> BandStats:
    """Statistics of ``samples`` (C×N valid pixels, L4S scale) with band names ``bands``."""
    names = resolve_bands(bands)
    values = np.asarray(samples, dtype=np.float64).reshape(len(names), -1)
    if values.shape[1] > SAMPLE_PIXELS:
        take = np.random.default_rng(seed).choice(values.shape[1], SAMPLE_PIXELS, replace=False)
        values = values[:, np.sort(take)]
    if values.shape[1] == 0:
        raise ValueError("no valid pixels to compute band statistics from")
    quantiles = np.percentile(values, PERCENTILES, axis=1).T
    raw = values * scale_vector(names)[:, None]  # order in physical units, not L4S units
    greater = (raw[:, None, :] > raw[None, :, :]).mean(axis=2)
    return BandStats(
        names,
        tuple(tuple(float(v) for v in q) for q in quantiles),
        tuple(tuple(float(v) for v in g) for g in greater),
        int(values.shape[1]),
    )


def stats_from_normalization(norm: Normalization) -> BandStats | None:
    """Approximate ranges from a model's normalisation (None for ``none``).

    minmax: p2 = min, p98 = max, median halfway; standard: mean ± 2 std.
    """
    if norm.method == "none":
        return None
    rows = []
    for off, sc in zip(norm.offset, norm.scale, strict=True):
        low, high = (off, off + sc) if norm.method == "minmax" else (off - 2 * sc, off + 2 * sc)
        mid = (low + high) / 2
        rows.append((low, (low + mid) / 2, mid, (mid + high) / 2, high))
    return BandStats(norm.bands, tuple(rows), None, 0, approximate=True)


@dataclass(frozen=True)
class ContractIssue:
    """One way the input does not look like the training data."""

    rule: str
    """``scale``, ``range`` or ``order``."""
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
            "band, unit, offset or processing level? check --band-order and --scale",
        )  # fmt: skip
    return None


def _order_issues(found: BandStats, expected: BandStats) -> list[ContractIssue]:
    """One issue naming every Sentinel-2 pair whose clear training order is reversed."""
    if found.greater is None or expected.greater is None:
        return []
    flips, involved = [], []
    optical = [b for b in BAND_NAMES if b in _S2_BANDS and b in expected.bands and b in found.bands]
    for a, b in itertools.combinations(optical, 2):
        t = expected.greater[expected.bands.index(a)][expected.bands.index(b)]
        s = found.greater[found.bands.index(a)][found.bands.index(b)]
        low = 1 - ORDER_CLEAR
        if (t >= ORDER_CLEAR and s <= low) or (t <= low and s >= ORDER_CLEAR):
            flips.append(f"{a} > {b} in {t:.0%} of the training pixels but {s:.0%} of these")
            involved += [x for x in (a, b) if x not in involved]
    if not flips:
        return []
    names = sorted(involved, key=BAND_NAMES.index)
    ranges = "; ".join(
        f"{b} expected {expected.range_text(b)}, found {found.range_text(b)}" for b in names
    )  # L4S scale, p2-p98
    return [ContractIssue(
        "order", tuple(names),
        f"bands {', '.join(names[:-1])} and {names[-1]} look swapped: {'; '.join(flips)} "
        f"({ranges}); check --band-order (or the input comes from another processing "
        "level, e.g. L1C top-of-atmosphere instead of L2A surface reflectance)",
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
        "found": found.to_dict() if found is not None else None,
    }  # fmt: skip


def enforce(issues: Sequence[ContractIssue], source: str, strict: bool) -> None:
    """Warn (:class:`DataContractWarning`) for each issue, or raise them all when ``strict``."""
    if not issues:
        return
    if strict:
        lines = "\n  ".join(i.message for i in issues)
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


def patch_band_stats(
    refs: Sequence[PatchRef], bands: Sequence[str], max_patches: int = 256, seed: int = 0
) -> BandStats | None:
    """:func:`band_stats` of up to ``max_patches`` patches spread over ``refs`` (None if none)."""
    if not refs:
        return None
    picks = np.unique(np.linspace(0, len(refs) - 1, min(max_patches, len(refs))).astype(int))
    per_patch = max(SAMPLE_PIXELS // len(picks), 1)
    rng = np.random.default_rng(seed)
    parts = []
    for _, image in iter_images([refs[i] for i in picks], bands, "band statistics", False):
        pixels = image.reshape(-1, image.shape[-1])
        pixels = pixels[np.isfinite(pixels).all(axis=1)]
        take = rng.choice(len(pixels), min(per_patch, len(pixels)), replace=False)
        parts.append(pixels[take].T)
    samples = np.concatenate(parts, axis=1)
    return band_stats(samples, bands, seed) if samples.shape[1] else None


def check_patches(
    refs: Sequence[PatchRef], spec: Any, source: str, strict: bool = False
) -> dict[str, Any]:
    """:func:`check` of patches against the model ``spec`` (a ModelSpec) they are fed to."""
    found = patch_band_stats(refs, spec.bands)
    return check(found, spec.band_stats, spec.normalization, source, strict)
