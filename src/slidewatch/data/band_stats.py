"""Per-band value statistics of a sample of pixels: what a model file's ``band_stats`` holds
and what the data contract (:mod:`slidewatch.data.contract`) compares.

Percentiles on the L4S scale, and for each pair of bands the share of pixels in which one is
brighter than the other **in raw units** (L4S values times the band's L4S divisor). Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slidewatch.bands import band_indices, resolve_bands, scale_vector
from slidewatch.data.layout import PatchRef
from slidewatch.data.normalization import Normalization
from slidewatch.data.stats import iter_images

PERCENTILES: tuple[float, ...] = (2.0, 25.0, 50.0, 75.0, 98.0)
"""The percentiles stored per band (p2 and p98 bound the 'range' named in messages)."""
SAMPLE_PIXELS = 20_000
"""Pixels per band the statistics are computed from (a seeded subsample)."""


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
        return f"{number_text(q[0])}-{number_text(q[-1])} (median {number_text(q[2])})"


def number_text(value: float) -> str:
    """A value for messages: thousands without decimals, else three significant digits."""
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
