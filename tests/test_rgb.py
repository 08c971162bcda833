"""The one RGB pick and stretch (quicklooks, figures, history panels, labeling, tiles)."""

from __future__ import annotations

import numpy as np

from slidewatch.rgb import INVALID_GREY, colour_bands, percentile_limits, stretch_rgb


def test_colour_bands_pick_b4_b3_b2_or_the_first_three() -> None:
    assert colour_bands(["B2", "B3", "B4", "B8"]) == [2, 1, 0]
    assert colour_bands(["B2", None, "B4"]) == [0, 1, 2]  # unknown descriptions: in order
    assert colour_bands(["slope", "dem"]) == [0, 1]
    assert colour_bands(["slope", "dem"], three=True) == [0, 1, 1]
    assert colour_bands(["dem"], three=True) == [0, 0, 0]


def test_percentiles_of_the_finite_pixels_of_a_region() -> None:
    channels = np.array([[[0.0, 1.0], [np.nan, 100.0]], [[np.nan] * 2] * 2])
    region = np.array([[True, True], [True, False]])
    limits = percentile_limits(channels, 0, 100, region)
    assert limits.tolist() == [[0.0, 1.0], [0.0, 1.0]]  # the second channel has none: (0, 1)
    assert percentile_limits(channels, 0, 100)[0].tolist() == [0.0, 100.0]


def test_two_dates_stretched_on_the_pixels_both_see_compare() -> None:
    rng = np.random.default_rng(0)
    pre = rng.random((3, 20, 20)).astype(np.float32)
    post = pre * 2  # brighter everywhere: the same stretch shows it
    post[:, :5] = np.nan  # a cloud on the second date
    seen_pre, seen_post = np.isfinite(pre).all(0), np.isfinite(post).all(0)
    both = seen_pre & seen_post
    a = stretch_rgb(pre, seen_pre, region=both)
    b = stretch_rgb(post, seen_post, region=both)
    np.testing.assert_allclose(a[5:], b[5:], atol=1e-6)  # each date's own percentiles
    assert (b[:5] == INVALID_GREY).all() and (a[:5] != INVALID_GREY).any()
    assert a.dtype == np.float32 and a.shape == (20, 20, 3) and a.flags.c_contiguous
