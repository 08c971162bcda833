"""The data contract's rules on generated values: swaps, scale mistakes, and silence when right."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from slidewatch.bands import BAND_SETS, l4s_to_raw
from slidewatch.data.contract import (
    BandStats,
    DataContractWarning,
    band_stats,
    check,
    compare,
    patch_band_stats,
    stats_from_normalization,
)
from slidewatch.data.layout import discover
from slidewatch.data.normalization import Normalization, normalization_from_arrays
from slidewatch.errors import DataContractError
from slidewatch.synthetic import make_l4s_dataset, make_patch

SIX = BAND_SETS["six10m"]
SIX_IDX = [1, 2, 3, 7, 12, 13]


def pixels(seed: int, size: int = 96) -> np.ndarray:
    """C×N L4S-scale values of the six10m bands of one generated patch."""
    image, _ = make_patch(np.random.default_rng(seed), size)
    return image[..., SIX_IDX].reshape(-1, len(SIX)).T


@pytest.fixture(scope="module")
def trained() -> BandStats:
    return band_stats(np.concatenate([pixels(s) for s in range(4)], axis=1), SIX)


def rules(issues: list) -> set[tuple[str, tuple[str, ...]]]:
    return {(i.rule, i.bands) for i in issues}


def test_a_correct_input_breaks_no_rule(trained: BandStats) -> None:
    for seed in (10, 11, 12):
        assert compare(band_stats(pixels(seed), SIX), trained) == []


def test_swapped_pair_is_named_with_both_ranges(trained: BandStats) -> None:
    # A raw scene named in the wrong order (B4 where B2 belongs and back) is divided by the
    # wrong band's constant; the order of the two bands in raw units flips.
    raw = l4s_to_raw(pixels(10), SIX)
    misnamed = raw[[2, 1, 0, 3, 4, 5]] / l4s_to_raw(np.ones((6, 1)), SIX)
    issues = [i for i in compare(band_stats(misnamed, SIX), trained) if i.rule == "swapped"]
    assert len(issues) == 1 and issues[0].bands == ("B2", "B4")  # B3 lies between them
    message = issues[0].message
    assert "bands B2 and B4 look swapped: B2 > B3" in message
    assert "B2 > B4 in 100% of the training pixels but 0% of these" in message
    assert "exchanging B2 and B4 fits the training data" in message
    assert "B2 expected 0.66-" in message and "B4 expected" in message and "found" in message
    assert "check --band-order" in message


def test_raw_values_read_as_l4s_break_the_scale_rule(trained: BandStats) -> None:
    issues = compare(band_stats(l4s_to_raw(pixels(10), SIX), SIX), trained)
    assert {b for r, (b,) in rules(issues) if r == "scale"} == set(SIX)
    assert "larger than in training" in issues[0].message


def test_slope_in_radians_breaks_the_scale_rule(trained: BandStats) -> None:
    values = pixels(10)
    degrees = l4s_to_raw(values[4:5], ["slope"])
    values[4] = np.radians(degrees[0]) / (degrees[0] / values[4]).mean()  # radians, scaled
    issues = compare(band_stats(values, SIX), trained)
    assert rules(issues) == {("scale", ("slope",))}
    assert "smaller than in training" in issues[0].message and "radians" in issues[0].message


def test_shifted_median_breaks_the_range_rule(trained: BandStats) -> None:
    values = pixels(10)
    values[0] += 3.0  # e.g. an offset of 2,500 digital numbers left in
    assert ("range", ("B2",)) in rules(compare(band_stats(values, SIX), trained))


def test_round_trip_and_selection(trained: BandStats) -> None:
    assert BandStats.from_dict(trained.to_dict()).to_dict() == trained.to_dict()
    picked = trained.select(["B4", "B2"])
    assert picked.bands == ("B4", "B2")
    assert picked.greater is not None and picked.greater[0][1] == trained.greater[2][0]  # type: ignore[index]


def test_normalisation_fallback_catches_raw_values() -> None:
    values = pixels(10)
    norm = normalization_from_arrays(
        "minmax", SIX, minimum=values.min(axis=1), maximum=values.max(axis=1)
    )
    expected = stats_from_normalization(norm)
    assert expected is not None and expected.approximate
    assert compare(band_stats(pixels(11), SIX), expected) == []
    assert len(compare(band_stats(l4s_to_raw(values, SIX), SIX), expected)) == len(SIX)
    assert stats_from_normalization(Normalization.identity(SIX)) is None


def test_check_warns_or_raises_and_reports(trained: BandStats) -> None:
    raw = band_stats(l4s_to_raw(pixels(10), SIX), SIX)
    norm = Normalization.identity(SIX)
    with pytest.warns(DataContractWarning) as caught:
        result = check(raw, trained, norm, "scene.tif")
    assert len(caught) == len(SIX)
    assert str(caught[0].message).startswith("scene.tif: band B2 (L4S scale, p2-p98): expected")
    assert not result["ok"] and result["bands"] == list(SIX)
    assert len(result["warnings"]) == len(SIX)
    with pytest.raises(
        DataContractError, match=r"(?s)scene.tif: the values do not look like .*band dem"
    ):
        check(raw, trained, norm, "scene.tif", strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = check(band_stats(pixels(11), SIX), trained, norm, "scene.tif", strict=True)
    assert fine["ok"] and fine["checked"] and fine["warnings"] == []
    unchecked = check(band_stats(pixels(11), SIX), None, norm, "scene.tif")
    assert not unchecked["checked"] and unchecked["basis"] is None


def test_patch_band_stats_match_the_patches(tmp_path: Path) -> None:
    make_l4s_dataset(tmp_path / "d", n=4, seed=1)
    stats = patch_band_stats(discover(tmp_path / "d"), SIX)
    assert stats is not None and stats.bands == SIX and stats.pixels > 1000
    assert 0.5 < stats.quantiles[0][2] < 1.5  # B2's median on the L4S scale
    assert patch_band_stats([], SIX) is None
