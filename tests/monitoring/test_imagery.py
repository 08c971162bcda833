"""What monitoring keeps between looks in one process is dropped when its files change: a
static catalogue's walk (new acquisitions are found). (The model's hash: models/identity.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from slidewatch.acquisition.stac.finders import catalogue_stamp
from slidewatch.monitoring import imagery


def _catalogue(root: Path, days: list[int]) -> Path:
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

    bands, dem, _ = area_bands(24, 24, seed=2)
    scenes = [SyntheticScene(f"S2A_CACHE_202303{d:02d}", datetime(2023, 3, d, 15, tzinfo=UTC),
                             bands) for d in days]  # fmt: skip
    return write_catalog(root, scenes, dem)


def test_a_static_catalogue_is_walked_again_when_an_acquisition_is_added(tmp_path: Path) -> None:
    from slidewatch.synthetic import CRS, ORIGIN, lonlat_box

    catalog = _catalogue(tmp_path / "cat", [1])
    source = {"stac_url": str(catalog), "bands": "B2,B3,B4,B8"}
    target = imagery.Target.parse(source, lonlat_box(slice(4, 20), slice(4, 20), ORIGIN, CRS))
    window = (date(2023, 2, 1), date(2023, 3, 31))
    assert [f.date for f in imagery.search(target, *window)] == ["2023-03-01"]
    stamp = catalogue_stamp(str(catalog))
    assert len(stamp) >= 2  # the root and its collection(s)
    _catalogue(tmp_path / "cat", [1, 6])  # the publisher adds an acquisition
    assert catalogue_stamp(str(catalog)) != stamp
    assert [f.date for f in imagery.search(target, *window)] == ["2023-03-01", "2023-03-06"]
