"""What the model sees where the scene has no data (pure functions).

Invalid pixels (nodata, masked, NaN) are marked 255 in the outputs, but the network still
sees them inside windows that also hold valid pixels, and its receptive field lets them
pull the predictions of valid neighbours. A constant 0 (what the scene reader gives) is
very dark for every band — far from anything the model was trained on — so it biases the
neighbours most. The default fill, ``nearest``, repeats the nearest valid value along the
row (left or right, whichever is closer), so a hole looks like its surroundings; rows
without any valid pixel take the band's ``centre``: the value that normalises to the
middle of the model's training data (mean for ``standard``, mid-range for ``minmax``).
``bench/bench_detect.py`` measures the bias of each fill.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from slidewatch.errors import unknown_name
from slidewatch.models.modelfile import ModelSpec

FILLS = ("nearest", "centre", "zero")
DEFAULT_FILL = "nearest"

Filler = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(C×h×w image, h×w valid) -> the image with its invalid pixels filled."""


def centre_values(spec: ModelSpec) -> np.ndarray:
    """Per band, the L4S value at the centre of the model's training data."""
    norm = spec.normalization
    offset, scale = np.asarray(norm.offset, np.float32), np.asarray(norm.scale, np.float32)
    if norm.method == "minmax":
        return offset + scale / 2
    return offset  # standard: the mean; none: 0 (nothing better is known)


def nearest_along_rows(image: np.ndarray, valid: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Invalid pixels take the nearest valid value of their row; empty rows ``default``."""
    h, w = valid.shape
    cols = np.broadcast_to(np.arange(w), (h, w))
    left = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(valid, cols, w)[:, ::-1], axis=1)[:, ::-1]
    use_left = (left >= 0) & ((right >= w) | (cols - left <= right - cols))
    source = np.where(use_left, left, right)
    rows = np.broadcast_to(np.arange(h)[:, None], (h, w))
    empty = ~valid.any(axis=1)
    out = image[:, rows, np.clip(source, 0, w - 1)]
    out[:, empty, :] = default[:, None, None]
    return np.where(valid, image, out).astype(np.float32, copy=False)


def make_filler(spec: ModelSpec, method: str = DEFAULT_FILL) -> Filler:
    """The fill function for ``method`` (one of :data:`FILLS`) and this model."""
    if method not in FILLS:
        raise unknown_name("fill", method, FILLS)
    centre = centre_values(spec)
    if method == "nearest":
        return lambda image, valid: nearest_along_rows(image, valid, centre)
    value = centre if method == "centre" else np.zeros_like(centre)
    return lambda image, valid: np.where(valid, image, value[:, None, None]).astype(np.float32)
