"""Pure rules: the offset, asset keys, duplicates and acquisitions, composites, clouds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from slidewatch.acquisition.acquisitions import as_utc_range, group_acquisitions, newest_copies
from slidewatch.acquisition.clouds import (
    CIRRUS,
    CLEAR,
    CLOUD,
    NODATA,
    SHADOW,
    classes_from_probability,
    classes_from_scl,
)
from slidewatch.acquisition.composite import composite
from slidewatch.acquisition.offset import date_rule_offset, stac_offset
from slidewatch.acquisition.options import SourceConfig, StacConfig
from slidewatch.acquisition.sources import SceneInfo
from slidewatch.acquisition.stac.assets import asset_key
from slidewatch.acquisition.stac.items import RasterBand
from slidewatch.errors import ConfigError, SourceError


def when(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def test_offset_rules_on_both_sides_of_the_baseline_date() -> None:
    assert stac_offset("x", when(2022, 1, 25), baseline="04.00")[0] == 1000
    assert stac_offset("x", when(2021, 1, 1), baseline="03.01")[0] == 0
    rb = [RasterBand(offset=-0.1, scale=0.0001)]
    assert stac_offset("x", when(2023, 1, 1), raster_bands=rb)[0] == 1000
    assert stac_offset("x", when(2023, 1, 1), raster_bands=[RasterBand(0, 0.0001)])[0] == 0
    # a catalogue that already removed it wins over the baseline: never twice
    value, _ = stac_offset(
        "x", when(2023, 1, 1), baseline="05.09", raster_bands=rb, offset_applied=True
    )
    assert value == 0
    assert stac_offset("x", when(2021, 12, 31))[0] == 0
    with pytest.raises(SourceError, match=r"item x .*neither raster:bands offset.*--dn-offset"):
        stac_offset("x", when(2022, 6, 1))


def test_earth_engine_date_rule() -> None:
    assert date_rule_offset(when(2022, 1, 24, 23), harmonized=False)[0] == 0
    assert date_rule_offset(when(2022, 1, 25, 0), harmonized=False)[0] == 1000
    assert date_rule_offset(when(2023, 1, 1), harmonized=True)[0] == 0


def test_asset_keys_esa_common_names_overrides_and_misses() -> None:
    assert asset_key("B4", "i", {"B04": {}, "red": {}}) == "B04"
    assert asset_key("B4", "i", {"red": {}}) == "red"
    assert asset_key("B8", "i", {"band8": {"B08"}}) == "band8"  # its eo:bands name
    assert asset_key("B4", "i", {"B04": {}, "visual": {}}, {"B4": "visual"}) == "visual"
    with pytest.raises(
        SourceError, match=r"item S2X has no asset for band B10 .*its assets are B04, red, visual"
    ):
        asset_key("B10", "S2X", {"B04": {}, "red": {}, "visual": {}})
    with pytest.raises(SourceError, match=r"'nope' given for B4 is not one of its assets"):
        asset_key("B4", "S2X", {"B04": {}}, {"B4": "nope"})


def scene(
    id_: str, t: datetime, tile: str = "T1", baseline: str = "05.09", processed: str = ""
) -> SceneInfo:
    return SceneInfo(id_, t, tile, baseline, 10.0, 1000.0, "", processed)


def test_reprocessed_duplicates_keep_the_newest_and_tiles_group_by_day() -> None:
    t = when(2023, 7, 1)
    scenes = [
        scene("old", t, processed="2023-07-01"),
        scene("new", t, processed="2023-09-01"),
        scene("newer_baseline", t, baseline="05.10"),
        scene("other_tile", t, tile="T2"),
        scene("later", when(2023, 7, 11)),
    ]
    assert {s.id for s in newest_copies(scenes)} == {"newer_baseline", "other_tile", "later"}
    acqs = group_acquisitions(scenes)
    assert [a.scene_ids for a in acqs] == [("newer_baseline", "other_tile"), ("later",)]
    assert acqs[0].key == "2023-07-01:newer_baseline+other_tile"
    assert acqs[0].key == group_acquisitions(list(reversed(scenes)))[0].key  # stable


def test_reversed_dates_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"before the start date.*swap --start and --end"):
        as_utc_range(date(2023, 3, 1), date(2023, 1, 1))
    lo, hi = as_utc_range(date(2023, 1, 1), date(2023, 1, 1))
    assert (hi - lo).total_seconds() == pytest.approx(86400, abs=1e-3)


def test_source_config_round_trip_and_validation() -> None:
    cfg = StacConfig(asset_keys=(("B4", "red"),), max_cloud=20)
    assert SourceConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.to_dict()["asset_keys"] == {"B4": "red"}
    with pytest.raises(ConfigError, match="unknown composite 'mean'; valid: best, median"):
        StacConfig(composite="mean")
    with pytest.raises(ConfigError, match="unknown source option"):
        SourceConfig.from_dict({"colour": "red"})


def test_best_takes_the_clearest_then_the_latest_and_median_the_middle() -> None:
    values = np.array([1.0, 2.0, 3.0], np.float32).reshape(3, 1, 1, 1) * np.ones((3, 1, 1, 3))
    classes = np.array(
        [[[CLEAR, CLEAR, CLOUD]], [[CLEAR, CLOUD, CLOUD]], [[CLEAR, NODATA, SHADOW]]], np.uint8
    )
    score = np.zeros((3, 1, 3), np.float32)
    out, cls = composite("best", values.astype(np.float32), classes, score)
    assert out[0, 0].tolist()[:2] == [3.0, 1.0] and np.isnan(out[0, 0, 2])
    assert cls[0].tolist() == [CLEAR, CLEAR, SHADOW]  # the latest class with data
    score[:, 0, 0] = (0.1, 0.2, 0.3)  # a lower cloud probability wins over recency
    assert composite("best", values.astype(np.float32), classes, score)[0][0, 0, 0] == 1.0
    med, _ = composite("median", values.astype(np.float32), classes, score)
    assert med[0, 0].tolist()[:2] == [2.0, 1.0] and np.isnan(med[0, 0, 2])


def test_cloud_classes_from_scl_and_probability() -> None:
    scl = np.array([[0, 3, 4, 8, 9, 10, 11, np.nan]], np.float32)
    assert classes_from_scl(scl).tolist() == [
        [NODATA, SHADOW, CLEAR, CLOUD, CLOUD, CIRRUS, CLEAR, NODATA]
    ]
    prob = np.array([[0.1, 0.5, np.nan]], np.float32)
    assert classes_from_probability(prob).tolist() == [[CLEAR, CLOUD, NODATA]]


def test_s2cloudless_tells_cloud_from_vegetation() -> None:
    from slidewatch.acquisition.clouds import S2CLOUDLESS_BANDS, s2cloudless_probability

    veg = dict(
        zip(
            S2CLOUDLESS_BANDS,
            (0.11, 0.06, 0.04, 0.09, 0.28, 0.3, 0.08, 0.001, 0.13, 0.05),
            strict=True,
        )
    )
    cloud = dict.fromkeys(S2CLOUDLESS_BANDS, 0.7) | {"B10": 0.09}
    refl = {b: np.array([[veg[b], cloud[b]]], np.float32) for b in S2CLOUDLESS_BANDS}
    prob = s2cloudless_probability(refl)
    assert prob[0, 0] < 0.1 < 0.9 < prob[0, 1]


def test_two_passes_on_one_day_are_two_acquisitions_when_the_items_say() -> None:
    from dataclasses import replace

    from slidewatch.acquisition.earthengine.requests import scene_from_properties
    from slidewatch.acquisition.sources import pass_id

    morning, later = when(2023, 7, 1, 10), datetime(2023, 7, 1, 11, 40, tzinfo=UTC)
    r10, r11 = pass_id("Sentinel-2A", 10), pass_id("sentinel-2a", "11")
    assert (r10, r11, pass_id("sentinel-2a", None)) == ("sentinel-2a/R010", "sentinel-2a/R011", "")
    scenes = [
        replace(scene("a_T1", morning), pass_id=r10),
        replace(scene("a_T2", morning, tile="T2"), pass_id=r10),  # one pass, two tiles
        replace(scene("b_T1", later), pass_id=r11),  # the next orbit, 100 minutes later
    ]
    acqs = group_acquisitions(scenes)
    assert [a.scene_ids for a in acqs] == [("a_T1", "a_T2"), ("b_T1",)]
    assert [a.key for a in acqs] == ["2023-07-01:a_T1+a_T2", "2023-07-01:b_T1"]
    unknown = [replace(s, pass_id="") for s in scenes]  # the catalogue does not say: one day
    assert [a.scene_ids for a in group_acquisitions(unknown)] == [("a_T1", "a_T2", "b_T1")]
    props = {"system:index": "x", "system:time_start": 1.6e12, "SPACECRAFT_NAME": "Sentinel-2B",
             "SENSING_ORBIT_NUMBER": 96.0}  # fmt: skip
    assert scene_from_properties(props, "COPERNICUS/S2_HARMONIZED").pass_id == "sentinel-2b/R096"
