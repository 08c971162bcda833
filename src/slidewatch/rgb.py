"""The one RGB pick and stretch: B4, B3, B2 (or the first three bands), each channel
contrast-stretched between two percentiles to [0, 1]. Quicklooks, training figures, the
history panels, the labeling views and the service's RGB tiles all call these. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slidewatch.bands import RGB

STRETCH_PERCENT = 2.0
"""Each channel maps its ``STRETCH_PERCENT`` percentile to 0 and ``100 - STRETCH_PERCENT`` to 1."""

INVALID_GREY = 0.5
"""What :func:`stretch_rgb` draws where a pixel is not valid."""


def colour_bands(bands: Sequence[str | None], *, three: bool = False) -> list[int]:
    """Indices of B4, B3, B2 in ``bands`` when all present, else of the first (up to) 3;
    ``three``: fewer than three bands repeat the last, for readers that want three channels.
    A file's bands: pass :func:`~slidewatch.bands.band_from_description` of each description.
    """
    names = list(bands)
    if all(b in names for b in RGB):
        return [names.index(b) for b in RGB]
    picked = list(range(min(3, len(names))))
    if three and picked:
        picked += [picked[-1]] * (3 - len(picked))
    return picked


def percentile_limits(
    channels: np.ndarray,
    low_percent: float = STRETCH_PERCENT,
    high_percent: float = 100 - STRETCH_PERCENT,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """Per channel of C×H×W ``channels``: the ``low``/``high`` percentiles (C×2) of the finite
    pixels in ``region`` (H×W bool; all pixels when None or empty), so that a larger view can
    be stretched like the part of it that matters; ``(0, 1)`` for a channel without any."""
    limits = np.tile([0.0, 1.0], (channels.shape[0], 1))
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


def stretch_rgb(
    image: np.ndarray,
    valid: np.ndarray | None = None,
    percent: float = STRETCH_PERCENT,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """C×H×W (its first three bands; fewer repeat the last) -> H×W×3 float32 in [0, 1].

    Percentiles come from the pixels of ``region`` (default: the ``valid`` ones; all pixels
    when none is given or none is valid); pixels not ``valid`` are drawn mid-grey
    (:data:`INVALID_GREY`). Two images stretched on the same ``region`` compare.
    """
    valid = np.ones(image.shape[1:], dtype=bool) if valid is None else valid
    channels = image[[min(k, image.shape[0] - 1) for k in range(3)]].astype(np.float64)
    limits = percentile_limits(
        channels, percent, 100 - percent, valid if region is None else region
    )
    out = np.ascontiguousarray(np.moveaxis(stretch_between(channels, limits), 0, -1))
    out[~valid] = INVALID_GREY
    return out


def rgb_composite(
    image: np.ndarray, bands: Sequence[str], percent: float = STRETCH_PERCENT
) -> np.ndarray:
    """H×W×3 in [0, 1] of a C×H×W ``image`` with band names ``bands`` (see :func:`colour_bands`)."""
    return stretch_rgb(image[colour_bands(bands)], percent=percent)
