"""Weighted blending of overlapping window predictions (pure functions).

Each window's prediction is multiplied by a weight that falls off towards the window's
edge and added into a ``score`` accumulator, the weight into a ``weight`` accumulator;
the blended probability is ``score / weight`` (raster-vision's ``add_window`` design).
The weight is a separable Hann (sine²) bump floored at :data:`MIN_WEIGHT`: it falls to
almost nothing at a window's border (so a window's edge, where a CNN sees zero padding,
hardly counts and no seam appears) but is never exactly 0, so pixels at the scene's edge,
covered only by a window's border, still get a defined value.
"""

from __future__ import annotations

import numpy as np

MIN_WEIGHT = 1e-3
"""Floor of the window weight, so a pixel seen only by window borders keeps a value."""


def window_weights(tile: int) -> np.ndarray:
    """The tile×tile float32 blending weight: an outer product of Hann bumps, floored.

    Maximal (~1) in the centre, :data:`MIN_WEIGHT` at a window's border.
    """
    ramp = np.sin(np.pi * (np.arange(tile, dtype=np.float64) + 0.5) / tile) ** 2
    return np.maximum(np.outer(ramp, ramp), MIN_WEIGHT).astype(np.float32)


def add_window(
    score: np.ndarray,
    weight: np.ndarray,
    prediction: np.ndarray,
    row: int,
    col: int,
    weights: np.ndarray | None = None,
) -> None:
    """Add one window's ``prediction`` (h×w) at (``row``, ``col``) into the accumulators.

    ``weights=None`` means uniform weight 1 (a plain average of overlapping windows).
    """
    h, w = prediction.shape
    if weights is None:
        score[row : row + h, col : col + w] += prediction
        weight[row : row + h, col : col + w] += 1.0
        return
    score[row : row + h, col : col + w] += prediction * weights
    weight[row : row + h, col : col + w] += weights


def add_windows(
    score: np.ndarray,
    weight: np.ndarray,
    predictions: np.ndarray,
    starts: np.ndarray,
    weights: np.ndarray | None = None,
) -> None:
    """Add a batch of window predictions (N×h×w) at ``starts`` (N×2 row, col), in order."""
    for prediction, (row, col) in zip(predictions, starts, strict=True):
        add_window(score, weight, prediction, int(row), int(col), weights)


def blended(score: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``score / weight`` as float32, NaN where no window contributed."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = score / weight
    return np.where(weight > 0, out, np.nan).astype(np.float32, copy=False)


def blend_windows(
    predictions: np.ndarray,
    starts: np.ndarray,
    shape: tuple[int, int],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Blend window predictions into one ``shape`` array (whole-array convenience)."""
    score = np.zeros(shape, dtype=np.float32)
    weight = np.zeros(shape, dtype=np.float32)
    add_windows(score, weight, predictions, starts, weights)
    return blended(score, weight)
