"""STAC items parsed once into frozen records, and the one filter both finders apply."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pystac
import pytest

from slidewatch.acquisition.stac import finders
from slidewatch.acquisition.stac.finders import ItemQuery, StaticFinder
from slidewatch.acquisition.stac.items import ParsedItem, RasterBand, parse_item

from .conftest import Catalogue, aoi_from_utm, utc


@pytest.fixture(scope="module")
def items(catalogue: Catalogue) -> dict[str, pystac.Item]:
    catalog = pystac.Catalog.from_file(str(catalogue.path))
    return {item.id: item for item in catalog.get_items(recursive=True)}


def test_a_parsed_item_holds_what_the_source_reads(items: dict[str, pystac.Item]) -> None:
    parsed = parse_item(items["B_2023"])
    assert (parsed.id, parsed.collection, parsed.tile) == ("B_2023", "sentinel-2-l2a", "18LTP")
    assert parsed.datetime == utc(2023, 6, 1, 15) and parsed.processing_baseline == "05.09"
    assert parsed.cloud_cover == 0.0 and parsed.pass_id == "" and not parsed.offset_applied
    b04, b05 = parsed.assets["B04"], parsed.assets["B05"]
    assert b04.band_names == {"B04", "RED"} and parsed.asset_bands["B05"] == {"B05"}
    assert b04.raster_bands == (RasterBand(offset=-0.1, scale=0.0001),)
    assert b05.crs == "EPSG:32718" and b05.transform is not None and b05.transform[0] == 20
    assert "SCL" in parsed.assets and parsed.assets["SCL"].raster_bands[0].offset is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.id = "other"  # type: ignore[misc]
    again = parse_item(items["B_2023"])
    assert again == parsed and hash(again) == hash(parsed)


def test_the_query_filters_collection_footprint_dates_and_cloud(
    items: dict[str, pystac.Item], aoi_t1
) -> None:
    cloudy = parse_item(items["G_cloudy95"])  # T1, 2023-09-01, 95 %
    dates = (utc(2023, 9, 1), utc(2023, 9, 1, 23))
    assert ItemQuery("sentinel-2-l2a", aoi_t1, dates).matches(cloudy)
    assert not ItemQuery("sentinel-2-l2a", aoi_t1, dates, max_cloud=30).matches(cloudy)
    assert not ItemQuery("cop-dem-glo-30", aoi_t1, dates).matches(cloudy)
    assert not ItemQuery("sentinel-2-l2a", aoi_t1, (utc(2023, 1, 1), utc(2023, 8, 31))).matches(
        cloudy
    )
    east_only = aoi_from_utm(700, 100, 1100, 500)  # inside tile T2
    assert not ItemQuery("sentinel-2-l2a", east_only).matches(cloudy)
    assert ItemQuery("sentinel-2-l2a", east_only).matches(parse_item(items["E_T2"]))
    undated = dataclasses.replace(cloudy, datetime=None)
    assert ItemQuery("sentinel-2-l2a", aoi_t1).matches(undated)
    assert not ItemQuery("sentinel-2-l2a", aoi_t1, dates).matches(undated)


def test_a_static_catalogue_is_parsed_once_for_all_searches(
    catalogue: Catalogue, aoi_t1, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    def counting(item: pystac.Item) -> ParsedItem:
        parsed.append(item.id)
        return parse_item(item)

    monkeypatch.setattr(finders, "parse_item", counting)
    finder = StaticFinder(str(catalogue.path))
    day = (utc(2023, 6, 1), utc(2023, 6, 1, 23))
    assert [i.id for i in finder.items(ItemQuery("sentinel-2-l2a", aoi_t1, day))] == ["B_2023"]
    assert [i.id for i in finder.items(ItemQuery("cop-dem-glo-30", aoi_t1))] == ["dem"]
    assert sorted(parsed) == sorted(set(parsed)) and "dem" in parsed  # each item once


def test_an_unreadable_catalogue_is_a_clear_error(tmp_path: Path, aoi_t1) -> None:
    from slidewatch.errors import SourceError

    with pytest.raises(SourceError, match="no such STAC catalogue; check --stac-url"):
        StaticFinder(str(tmp_path / "catalog.json")).items(ItemQuery("x", aoi_t1))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SourceError, match="not a readable STAC catalogue"):
        StaticFinder(str(tmp_path / "bad.json")).items(ItemQuery("x", aoi_t1))
