from __future__ import annotations

import numpy as np
import pytest

from slidewatch.bands import (
    BAND_NAMES,
    BAND_SETS,
    L4S_SCALE,
    band_from_description,
    band_indices,
    l4s_to_raw,
    raw_to_l4s,
    resolve_bands,
)
from slidewatch.errors import BandError


def test_catalogue_has_the_official_order() -> None:
    assert BAND_NAMES[:12] == tuple(f"B{i}" for i in range(1, 13))
    assert BAND_NAMES[12:] == ("slope", "dem")
    assert len(L4S_SCALE) == 14
    assert L4S_SCALE[13] == pytest.approx(772.83144788)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("six10m", ("B2", "B3", "B4", "B8", "slope", "dem")),
        ("all14", BAND_NAMES),
        ("b4,B3, b2,B8", ("B4", "B3", "B2", "B8")),
        (["DEM", "Slope"], ("dem", "slope")),
    ],
)
def test_resolve_bands(spec: str | list[str], expected: tuple[str, ...]) -> None:
    assert resolve_bands(spec) == expected


def test_unknown_band_lists_valid_names() -> None:
    with pytest.raises(BandError) as info:
        resolve_bands("B4,B8A")
    msg = str(info.value)
    assert "B8A" in msg and "B12" in msg and "six10m" in msg


def test_repeated_band_is_rejected() -> None:
    with pytest.raises(BandError, match="repeats"):
        resolve_bands("B4,b4")


def test_band_indices_against_subset() -> None:
    assert band_indices(BAND_SETS["six10m"]) == [1, 2, 3, 7, 12, 13]
    assert band_indices(["B8", "B4"], ["B4", "B3", "B2", "B8"]) == [3, 0]
    with pytest.raises(BandError, match="not available"):
        band_indices(["dem"], ["B4", "B3"])


def test_scaling_round_trip() -> None:
    raw = np.stack([np.full((2, 2), 445.17289745), np.full((2, 2), 772.83144788 * 3)])
    l4s = raw_to_l4s(raw, ["B4", "dem"])
    np.testing.assert_allclose(l4s[0], 1.0)
    np.testing.assert_allclose(l4s[1], 3.0)
    np.testing.assert_allclose(l4s_to_raw(l4s, ["B4", "dem"]), raw)
    hwc = np.ones((3, 3, 2))
    np.testing.assert_allclose(raw_to_l4s(hwc, ["slope", "dem"], axis=-1)[..., 0], 1 / 20.29228266)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("B04,B03,B02,B08", ("B4", "B3", "B2", "B8")),
        ("red,green,blue,nir", ("B4", "B3", "B2", "B8")),
        ("swir1,swir2,Elevation", ("B11", "B12", "dem")),
        (["NIR"], ("B8",)),
    ],
)
def test_every_band_option_takes_the_documented_aliases(
    spec: str | list[str], expected: tuple[str, ...]
) -> None:
    assert resolve_bands(spec) == expected


def test_an_unknown_band_lists_the_aliases_too() -> None:
    with pytest.raises(BandError, match=r"unknown band 'B8A'.*red, .*nir"):
        resolve_bands("B4,B8A")


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("scene_sub12", None),
        ("web1", None),
        ("B8A", None),
        ("T45QYF_20230101T043159_B04_10m", "B4"),
        ("S2_B12", "B12"),
        ("B8 (nir)", "B8"),
        ("nir, 842 nm", "B8"),
        ("dem_30m", "dem"),
        ("B4 and B8", None),
    ],
)
def test_only_real_band_names_come_from_descriptions(text: str, band: str | None) -> None:
    assert band_from_description(text) == band
