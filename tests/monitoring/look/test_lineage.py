"""Merges and splits: recorded in the registry (which identities merged into which, which
part split from which, a merged identity no longer matched), and found by run-once on real
SYNTHETIC imagery where two scars join and a gully then cuts them apart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from tests.monitoring.model import SOURCE_BANDS

from slidewatch.monitoring.imagery import Found
from slidewatch.monitoring.look.change import ChangeRecord
from slidewatch.monitoring.look.context import LookContext, MonitorConfig
from slidewatch.monitoring.look.record import record_results
from slidewatch.monitoring.look.results import Results
from slidewatch.monitoring.registry import Registry, queries, runs
from slidewatch.monitoring.registry.aois import AoiSettings
from slidewatch.monitoring.registry.records import DetectedLandslide, PreviousRun, WatchedAoi
from slidewatch.monitoring.registry.tables import Alert, Change, Landslide

SQUARE = {"type": "Polygon", "coordinates": [[[-76.7, -11.95], [-76.6, -11.95], [-76.6, -11.85],
                                              [-76.7, -11.85], [-76.7, -11.95]]]}  # fmt: skip


def _box(x0: float, x1: float) -> dict[str, Any]:
    ring = [[x0, -11.9], [x1, -11.9], [x1, -11.89], [x0, -11.89], [x0, -11.9]]
    feature = {"type": "Polygon", "coordinates": [ring]}
    area = round((x1 - x0) * 1e7, 2)
    return {"type": "Feature", "geometry": feature,
            "properties": {"area_m2": area, "mean_probability": 0.9}}  # fmt: skip


def _run(registry: Registry, aoi: Any, day: str, current: list[dict[str, Any]],
         records: list[ChangeRecord], previous: PreviousRun | None) -> int:  # fmt: skip
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    found = Found(f"{day}:S2", day, when, [{"id": f"S2_{day}"}], None)
    run_id = runs.claim(registry, aoi.id, found.key, when, acquisition_date=day).run_id
    assert run_id is not None
    look = LookContext(registry, MonitorConfig("", "", ""), WatchedAoi.from_row(aoi), when)
    known = queries.known_landslides(registry, aoi.id)
    detected = [DetectedLandslide.from_feature(f) for f in current]
    res = Results(detected, known, records, previous, {}, {}, 0.0)
    record_results(look.for_run(found, run_id, 0.0, 0.0), res, {}, {})
    return run_id


def test_merge_then_split_keep_their_lineage(db_url: str) -> None:
    with Registry(db_url) as registry:
        aoi = registry.add_aoi(AoiSettings("lineage", SQUARE, "/m", "ab" * 32,
                                           min_new_area_m2=100.0))  # fmt: skip
        first = _run(registry, aoi, "2023-03-01", [_box(0.0, 0.0003), _box(0.0005, 0.0006)],
                     [ChangeRecord("baseline", 0, None, 0.0),
                      ChangeRecord("baseline", 1, None, 0.0)], None)  # fmt: skip
        big, small = (k.id for k in queries.known_landslides(registry, aoi.id))
        # the two merge into one polygon; the larger one's identity stays
        merged = [ChangeRecord("grown", 0, 0, 2000.0, merged_from=(1,)),
                  ChangeRecord("merged", 0, 1, 0.0, merged_into=0)]  # fmt: skip
        second = _run(registry, aoi, "2023-03-06", [_box(0.0, 0.0006)], merged,
                      PreviousRun(first, "2023-03-01", ""))  # fmt: skip
        changes = registry.changes_geojson(second)["features"]
        props = sorted((f["properties"] for f in changes), key=lambda p: p["kind"])
        assert [(p["kind"], p["landslide_id"], p["merged_from"], p["merged_into"]) for p in props] \
            == [("grown", big, [small], None), ("merged", small, [], big)]  # fmt: skip
        assert [k.id for k in queries.known_landslides(registry, aoi.id)] == [big]  # not matched
        with registry.session() as s:
            alert = s.scalars(select(Alert)).one()
            assert alert.payload["data"]["landslide"]["merged_from"] == [small]
            assert s.get_one(Landslide, small).merged_into_id == big
        # then it splits: the larger part keeps the identity, the other is new and says so
        split = [ChangeRecord("unchanged", 0, 0, 0.0),
                 ChangeRecord("split", 1, None, 0.0, split_from=0)]  # fmt: skip
        third = _run(registry, aoi, "2023-03-11", [_box(0.0, 0.0004), _box(0.00045, 0.0006)],
                     split, PreviousRun(second, "2023-03-06", ""))  # fmt: skip
        with registry.session() as s:
            row = s.scalars(
                select(Change).where(Change.run_id == third, Change.kind == "split")
            ).one()
            part = s.get_one(Landslide, row.landslide_id)
            assert (row.split_from_id, part.split_from_id, part.first_run_id) == (big, big, third)
            assert s.get_one(Landslide, big).last_run_id == third
            assert len(s.scalars(select(Alert)).all()) == 1  # a split part is not an alert


def _merge_split_catalogue(root: Path) -> tuple[Path, dict[str, Any]]:
    """Three SYNTHETIC dates: scars A (216 px) and B (100 px) 4 px apart; a slide joins
    them; a gully then cuts the joined one into a west part and an east part (A's east end,
    the join and B), the larger by overlap."""
    from slidewatch.synthetic import CRS, ORIGIN, SyntheticScene, area_bands, write_catalog
    from slidewatch.synthetic.example import MARGIN_PX, lonlat_box

    size = 120
    _, dem, _ = area_bands(size, size, 3)
    first = np.zeros((size, size), bool)
    first[40:52, 62:80] = first[40:50, 84:94] = True
    joined = first.copy()
    joined[42:50, 80:84] = True
    cut = joined.copy()
    cut[40:52, 72:78] = False
    scenes = [
        SyntheticScene(f"S2A_LINEAGE_202303{day:02d}", datetime(2023, 3, day, 15, tzinfo=UTC),
                       area_bands(size, size, 3, scars=scars)[0])
        for day, scars in ((1, first), (6, joined), (11, cut))
    ]  # fmt: skip
    inner = slice(MARGIN_PX, size - MARGIN_PX)
    return write_catalog(root.resolve(), scenes, dem), lonlat_box(inner, inner, ORIGIN, CRS)


def test_a_real_merge_then_split_through_run_once(tmp_path: Path, threshold_model: Path) -> None:
    from slidewatch.models.identity import model_hash
    from slidewatch.monitoring.look import MonitorConfig
    from slidewatch.monitoring.look.cycle import run_once

    catalog, aoi_geometry = _merge_split_catalogue(tmp_path / "catalog")
    config = MonitorConfig(f"sqlite:///{tmp_path / 'r.db'}", str(tmp_path / "archive"),
                           str(tmp_path / "work"))  # fmt: skip
    with Registry(config.db_url) as registry:
        source = {"stac_url": str(catalog), "bands": SOURCE_BANDS}
        digest = model_hash(threshold_model)
        settings = AoiSettings("gully", aoi_geometry, str(threshold_model), digest, source,
                               min_new_area_m2=200.0)  # fmt: skip
        registry.add_aoi(settings)
    for day in (3, 8, 13):
        outcomes, _ = run_once(config, now=datetime(2023, 3, day, tzinfo=UTC))
        assert [o.state for o in outcomes] == ["done"]
    with Registry(config.db_url) as registry:
        second, third = sorted(r.id for r in registry.runs("gully"))[1:]
        merged = registry.changes_geojson(second)["features"]
        split = registry.changes_geojson(third)["features"]
    kept = [f["properties"] for f in merged if f["properties"]["merged_from"]]
    # the join is new ground (grown when it passes the growth rule; the edge rule's 5 px
    # leave less of it counted than the model's wide blob covers)
    assert len(kept) == 1 and kept[0]["kind"] in ("grown", "unchanged")
    assert kept[0]["changed_area_m2"] > 0
    (absorbed,) = kept[0]["merged_from"]
    assert [f["properties"]["merged_into"] for f in merged if f["properties"]["kind"] == "merged"] \
        == [kept[0]["landslide_id"]]  # fmt: skip
    assert absorbed != kept[0]["landslide_id"]
    parts = {f["properties"]["kind"]: f["properties"] for f in split}
    assert parts["split"]["split_from"] == kept[0]["landslide_id"]
    assert parts["unchanged"]["landslide_id"] == kept[0]["landslide_id"]
    assert "gone" not in parts
