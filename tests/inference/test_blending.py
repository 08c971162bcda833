"""Blending against expected arrays built by hand (raster-vision style)."""

from __future__ import annotations

import numpy as np

from slidewatch.inference.blending import (
    MIN_WEIGHT,
    add_window,
    blend_windows,
    blended,
    window_weights,
)


def test_three_windows_on_10x20_uniform() -> None:
    # windows (0,0), (0,5), (0,10) of 10×10 with constant predictions 1, 2, 3
    predictions = np.stack([np.full((10, 10), v, np.float32) for v in (1.0, 2.0, 3.0)])
    starts = np.array([[0, 0], [0, 5], [0, 10]])
    result = blend_windows(predictions, starts, (10, 20))
    expected = np.zeros((10, 20), np.float32)
    expected[:, 0:5] = 1.0
    expected[:, 5:10] = (1.0 + 2.0) / 2
    expected[:, 10:15] = (2.0 + 3.0) / 2
    expected[:, 15:20] = 3.0
    np.testing.assert_allclose(result, expected)


def test_three_windows_weighted_by_hand() -> None:
    rng = np.random.default_rng(1)
    predictions = rng.random((3, 10, 10)).astype(np.float32)
    starts = np.array([[0, 0], [0, 5], [0, 10]])
    w = window_weights(10)
    score = np.zeros((10, 20), np.float32)
    weight = np.zeros((10, 20), np.float32)
    for p, c in zip(predictions, (0, 5, 10), strict=True):
        score[:, c : c + 10] += p * w
        weight[:, c : c + 10] += w
    np.testing.assert_allclose(blend_windows(predictions, starts, (10, 20), w), score / weight)
    # where a single window covers, the blend is that window's prediction exactly
    result = blend_windows(predictions, starts, (10, 20), w)
    np.testing.assert_allclose(result[:, :5], predictions[0][:, :5], rtol=1e-6)
    np.testing.assert_allclose(result[:, 15:], predictions[2][:, 5:], rtol=1e-6)


def test_weights_fall_off_but_never_vanish() -> None:
    w = window_weights(16)
    assert w.shape == (16, 16) and w.dtype == np.float32
    assert w.min() >= MIN_WEIGHT and w.min() < 0.05
    assert w.max() <= 1.0 and w[7, 7] > 0.95
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(w, w[::-1, ::-1])
    assert (np.diff(w[8, :8]) > 0).all()  # rises towards the centre


def test_blended_uncovered_is_nan_and_add_window_accumulates() -> None:
    score = np.zeros((4, 4), np.float32)
    weight = np.zeros((4, 4), np.float32)
    add_window(score, weight, np.full((2, 2), 0.5, np.float32), 1, 1)
    out = blended(score, weight)
    assert np.isnan(out[0, 0])
    np.testing.assert_array_equal(out[1:3, 1:3], 0.5)
