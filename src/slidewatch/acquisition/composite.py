"""Per-pixel composites of several acquisitions (pure numpy on blocks).

``best``: for each pixel, the clearest acquisition — among those where the pixel is clear,
the one with the lowest cloud probability (all equal when the mask is SCL) — ties going to
the latest. Its values are kept together, so a pixel's bands all come from one date.
``median``: the per-band median of the clear observations.

The composite's mask class is ``clear`` when any acquisition saw the pixel, otherwise the
class of the latest acquisition with data (cloud, shadow, cirrus), else ``no data``.
"""

from __future__ import annotations

import warnings

import numpy as np

from slidewatch.acquisition.clouds import CLEAR, NODATA

COMPOSITE_FUNCTIONS = ("best", "median")


def best_composite(values: np.ndarray, clear: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``values`` T×C×H×W (oldest first), ``clear`` T×H×W bool, ``score`` T×H×W (lower is
    clearer) → C×H×W; NaN where no acquisition is clear."""
    out = np.full(values.shape[1:], np.nan, dtype=np.float32)
    best = np.full(values.shape[2:], np.inf, dtype=np.float64)
    for t in range(values.shape[0]):  # ascending time: '<=' hands ties to the latest
        take = clear[t] & (score[t] <= best)
        best[take] = score[t][take]
        out[:, take] = values[t][:, take]
    return out


def median_composite(values: np.ndarray, clear: np.ndarray) -> np.ndarray:
    """Per-band median of the clear observations (T×C×H×W, T×H×W) → C×H×W, NaN if none."""
    masked = np.where(clear[:, None], values, np.nan)
    with warnings.catch_warnings():  # all-NaN pixels are expected: they stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(masked, axis=0).astype(np.float32)


def composite_classes(classes: np.ndarray) -> np.ndarray:
    """Mask class of the composite from per-acquisition classes (T×H×W uint8, oldest first)."""
    out = np.full(classes.shape[1:], NODATA, dtype=np.uint8)
    for t in range(classes.shape[0]):  # the latest acquisition with data wins
        seen = classes[t] != NODATA
        out[seen] = classes[t][seen]
    out[(classes == CLEAR).any(axis=0)] = CLEAR
    return out


def composite(
    kind: str, values: np.ndarray, classes: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(C×H×W values, H×W classes)`` of the ``kind`` composite (``best`` or ``median``)."""
    clear = classes == CLEAR
    if kind == "best":
        out = best_composite(values, clear, score)
    elif kind == "median":
        out = median_composite(values, clear)
    else:
        raise ValueError(f"unknown composite {kind!r}; valid: {', '.join(COMPOSITE_FUNCTIONS)}")
    return out, composite_classes(classes)
