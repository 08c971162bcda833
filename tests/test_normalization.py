from __future__ import annotations

import json

import numpy as np
import pytest

from slidewatch.data.normalization import Normalization, normalization_from_arrays
from slidewatch.errors import BandError, ConfigError


def test_minmax_maps_to_unit_range() -> None:
    x = np.stack([np.linspace(2, 4, 16).reshape(4, 4), np.linspace(-1, 1, 16).reshape(4, 4)])
    norm = normalization_from_arrays(
        "minmax", ["B4", "dem"], minimum=x.min(axis=(1, 2)), maximum=x.max(axis=(1, 2))
    )
    y = norm.apply(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.min(axis=(1, 2)), 0, atol=1e-6)
    np.testing.assert_allclose(y.max(axis=(1, 2)), 1, atol=1e-6)


def test_constant_band_does_not_divide_by_zero() -> None:
    norm = normalization_from_arrays("minmax", ["B10"], minimum=np.ones(1), maximum=np.ones(1))
    assert np.isfinite(norm.apply(np.ones((1, 2, 2)))).all()


def test_json_round_trip_and_select() -> None:
    norm = normalization_from_arrays(
        "standard", "six10m", mean=np.arange(6.0), std=np.arange(1.0, 7.0)
    )
    back = Normalization.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert back == norm
    sub = norm.select(["dem", "B2"])
    assert sub.bands == ("dem", "B2") and sub.offset == (5.0, 0.0) and sub.scale == (6.0, 1.0)
    with pytest.raises(BandError):
        norm.select(["B1"])


def test_channel_last_and_batched_apply() -> None:
    norm = normalization_from_arrays(
        "standard", ["B2", "B3"], mean=np.array([1, 2]), std=np.array([2, 4])
    )
    hwc = np.ones((3, 3, 2)) * np.array([3.0, 6.0])
    np.testing.assert_allclose(norm.apply(hwc, channel_axis=-1), 1.0)
    nchw = np.ones((5, 2, 3, 3)) * np.array([3.0, 6.0])[None, :, None, None]
    np.testing.assert_allclose(norm.apply(nchw, channel_axis=1), 1.0)


def test_invalid_method_and_malformed_dict() -> None:
    with pytest.raises(ConfigError, match="minmax"):
        Normalization("zscore", ("B2",), (0.0,), (1.0,))
    with pytest.raises(ConfigError, match="malformed"):
        Normalization.from_dict({"method": "none"})
