"""Dataset statistics: normalisation on the training refs, the paper's Table 1 per source,
and per-band value distributions (the data behind the paper's Figure 2).

Everything streams over files (one patch in memory at a time); percentiles use a seeded
pixel subsample. No torch import: ``slidewatch data stats`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from slidewatch.bands import BAND_NAMES, band_indices, resolve_bands
from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.data.layout import PatchRef
from slidewatch.data.normalization import Normalization, normalization_from_arrays
from slidewatch.errors import ConfigError, DatasetError

PIXEL_AREA_KM2 = 1e-4
"""One 10 m × 10 m pixel in km²."""
SAMPLE_PER_PATCH = 2048
"""Pixels per patch kept for percentile estimates."""


def iter_images(
    refs: Sequence[PatchRef], bands: Sequence[str], desc: str = "reading", progress: bool = True
) -> Iterator[tuple[PatchRef, np.ndarray]]:
    """Yield ``(ref, H×W×C float32 image of bands)`` one file at a time, with a progress bar."""
    cache: dict[tuple[str, ...], list[int]] = {}
    for ref in tqdm(refs, desc=desc, unit="patch", disable=None if progress else True):
        available = read_bands(ref.image)
        if available not in cache:
            try:
                cache[available] = band_indices(bands, available)
            except KeyError as exc:
                raise DatasetError(f"{ref.image}: {exc}") from None
        yield ref, read_image(ref.image, cache[available])


def compute_normalization(
    refs: Sequence[PatchRef],
    bands: str | Sequence[str],
    method: str = "minmax",
    percentiles: tuple[float, float] | None = None,
    progress: bool = False,
    seed: int = 0,
) -> Normalization:
    """Per-band normalisation from ``refs`` (pass the training split only)."""
    names = resolve_bands(bands)
    if method == "none":
        return Normalization.identity(names)
    if not refs:
        raise DatasetError("no patches to compute normalisation on; pass the training refs")
    if percentiles is not None and not 0 <= percentiles[0] < percentiles[1] <= 100:
        raise ConfigError(f"percentiles {percentiles} must satisfy 0 <= low < high <= 100")
    rng = np.random.default_rng(seed)
    n, total, total_sq = 0, np.zeros(len(names)), np.zeros(len(names))
    lo, hi = np.full(len(names), np.inf), np.full(len(names), -np.inf)
    samples = []
    for _, image in iter_images(refs, names, "normalisation", progress):
        pixels = image.reshape(-1, len(names)).astype(np.float64)
        lo, hi = np.minimum(lo, pixels.min(0)), np.maximum(hi, pixels.max(0))
        total += pixels.sum(0)
        total_sq += (pixels**2).sum(0)
        n += len(pixels)
        if percentiles is not None:
            take = rng.choice(len(pixels), min(SAMPLE_PER_PATCH, len(pixels)), replace=False)
            samples.append(pixels[take])
    if percentiles is not None and method == "minmax":
        stacked = np.concatenate(samples)
        lo, hi = np.percentile(stacked, percentiles, axis=0)
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean**2, 0.0))
    return normalization_from_arrays(
        method, names, minimum=lo, maximum=hi, mean=mean, std=std, percentiles=percentiles
    )


@dataclass(frozen=True)
class SourceStats:
    """One row of the paper's Table 1."""

    source: str
    """Dataset name, or ``all`` for the combination."""
    patches: int
    """Number of patches."""
    labeled_patches: int
    """Patches that have a mask (only these count towards the pixel numbers)."""
    landslide_pixels: int
    """Pixels with mask value 1."""
    total_pixels: int
    """Pixels of all labeled patches."""
    empty_images: int = 0
    """Patches whose image is all zeros (Sentinel-2's fill value: no data at all)."""

    @property
    def landslide_km2(self) -> float:
        """Landslide area in km² (10 m pixels)."""
        return self.landslide_pixels * PIXEL_AREA_KM2

    @property
    def landslide_percent(self) -> float:
        """Share of landslide pixels in %, 0 when nothing is labeled."""
        return 100.0 * self.landslide_pixels / self.total_pixels if self.total_pixels else 0.0

    @property
    def background_percent(self) -> float:
        """Share of non-landslide pixels in % (100 - landslide), 0 when nothing is labeled."""
        return 100.0 - self.landslide_percent if self.total_pixels else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able row including the derived columns."""
        return asdict(self) | {
            "landslide_km2": self.landslide_km2,
            "landslide_percent": self.landslide_percent,
            "background_percent": self.background_percent,
        }


def table1(refs: Sequence[PatchRef], progress: bool = False) -> list[SourceStats]:
    """Table 1 per source (in first-seen order) and for all sources combined (last row)."""
    counts: dict[str, list[int]] = {}
    for ref in tqdm(refs, desc="patches", unit="patch", disable=None if progress else True):
        row = counts.setdefault(ref.source, [0, 0, 0, 0, 0])
        row[0] += 1
        row[4] += not np.any(read_image(ref.image))
        if ref.mask is not None:
            mask = read_mask(ref.mask)
            row[1] += 1
            row[2] += int(np.count_nonzero(mask == 1))
            row[3] += mask.size
    rows = [SourceStats(s, *c) for s, c in counts.items()]
    combined = SourceStats("all", *(int(sum(c[i] for c in counts.values())) for i in range(5)))
    return [*rows, combined]


def common_bands(refs: Sequence[PatchRef]) -> tuple[str, ...]:
    """The bands every patch of ``refs`` holds, in L4S order (the default for plots)."""
    held: set[str] | None = None
    for bands in {read_bands(ref.image) for ref in refs}:
        held = set(bands) if held is None else held & set(bands)
    if not held:
        raise DatasetError(
            "the datasets hold no band in common; give --bands with bands of one source"
        )
    return tuple(b for b in BAND_NAMES if b in held)


def band_distributions(
    refs: Sequence[PatchRef],
    bands: str | Sequence[str] = "all14",
    bins: int = 32,
    progress: bool = False,
) -> tuple[tuple[str, ...], np.ndarray, dict[str, np.ndarray]]:
    """Per-source histograms of min-max normalised values (bounds over all sources).

    Returns ``(bands, bin_edges, {source: densities of shape bands × bins})``. Using one
    min/max for every source keeps the curves comparable: a shifted source shows as a
    shifted curve.
    """
    names = resolve_bands(bands)
    norm = compute_normalization(refs, names, "minmax", progress=progress)
    edges = np.linspace(0.0, 1.0, bins + 1)
    hist: dict[str, np.ndarray] = {}
    for ref, image in iter_images(refs, names, "histograms", progress):
        values = norm.apply(image, channel_axis=-1).reshape(-1, len(names))
        h = hist.setdefault(ref.source, np.zeros((len(names), bins)))
        for b in range(len(names)):
            h[b] += np.histogram(values[:, b], bins=edges)[0]
    width = edges[1] - edges[0]
    dens = {s: h / np.maximum(h.sum(1, keepdims=True), 1) / width for s, h in hist.items()}
    return names, edges, dens
