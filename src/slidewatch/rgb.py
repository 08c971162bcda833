"""Colour composites for figures and quicklooks: B4, B3, B2 (or the first three bands),
each channel contrast-stretched between two percentiles to [0, 1]. Pure numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slidewatch.bands import RGB

STRETCH_PERCENT = 2.0
"""Each channel maps its ``STRETCH_PERCENT`` percentile to 0 and ``100 - STRETCH_PERCENT`` to 1."""


def colour_bands(bands: Sequence[str]) -> list[int]:
    """Indices of B4, B3, B2 in ``bands`` when all present, else of the first (up to) 3."""
    names = list(bands)
    if all(b in names for b in RGB):
        return [names.index(b) for b in RGB]
    return list(range(min(3, len(names))))


def stretch_rgb(
    image: np.ndarray, valid: np.ndarray | None = None, percent: float = STRETCH_PERCENT
) -> np.ndarray:
    """C×H×W (its first three bands; fewer repeat the last) -> H×W×3 float32 in [0, 1].

    Percentiles come from the ``valid`` pixels (all pixels when none or no mask is given);
    invalid pixels are drawn mid-grey (0.5).
    """
    valid = np.ones(image.shape[1:], dtype=bool) if valid is None else valid
    out = np.zeros((*image.shape[1:], 3), dtype=np.float32)
    for k in range(3):
        band = image[min(k, image.shape[0] - 1)].astype(np.float64)
        values = band[valid] if valid.any() else band.ravel()
        low, high = np.percentile(values, [percent, 100 - percent]) if values.size else (0, 1)
        out[..., k] = np.clip((band - low) / max(high - low, 1e-6), 0, 1)
    out[~valid] = 0.5
    return out


def rgb_composite(
    image: np.ndarray, bands: Sequence[str], percent: float = STRETCH_PERCENT
) -> np.ndarray:
    """H×W×3 in [0, 1] of a C×H×W ``image`` with band names ``bands`` (see :func:`colour_bands`)."""
    return stretch_rgb(image[colour_bands(bands)], percent=percent)


def percentile_limits(
    channels: np.ndarray, low_percent: float, high_percent: float, region: np.ndarray | None = None
) -> np.ndarray:
    """Per channel of C×H×W ``channels``: the ``low``/``high`` percentiles (C×2) of the pixels
    in ``region`` (H×W bool; all pixels when None), so that a larger view can be stretched like
    the part of it that matters."""
    limits = np.zeros((channels.shape[0], 2))
    for k, band in enumerate(channels):
        values = band[region] if region is not None and region.any() else band.ravel()
        values = values[np.isfinite(values)]
        if values.size:
            limits[k] = np.percentile(values, [low_percent, high_percent])
    return limits


def stretch_between(channels: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """C×H×W -> C×H×W float32 in [0, 1]: each channel mapped linearly from its row of
    ``limits`` (C×2) and clipped; non-finite values become 0."""
    low = limits[:, 0].reshape(-1, 1, 1)
    span = np.maximum(limits[:, 1] - limits[:, 0], 1e-6).reshape(-1, 1, 1)
    out = np.clip((channels - low) / span, 0.0, 1.0)
    return np.nan_to_num(out, nan=0.0).astype(np.float32)
