"""Merges and splits recorded in the registry: which identities merged into which, which
part split from which, and a merged identity no longer matched by later runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from slidewatch.monitoring import runs
from slidewatch.monitoring.aois import AoiSettings
from slidewatch.monitoring.change import ChangeRecord
from slidewatch.monitoring.imagery import Found
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.results import Results, _known, record_results
from slidewatch.monitoring.tables import Alert, Change, Landslide

SQUARE = {"type": "Polygon", "coordinates": [[[-76.7, -11.95], [-76.6, -11.95], [-76.6, -11.85],
                                              [-76.7, -11.85], [-76.7, -11.95]]]}  # fmt: skip


def _box(x0: float, x1: float) -> dict[str, Any]:
    ring = [[x0, -11.9], [x1, -11.9], [x1, -11.89], [x0, -11.89], [x0, -11.9]]
    feature = {"type": "Polygon", "coordinates": [ring]}
    area = round((x1 - x0) * 1e7, 2)
    return {"type": "Feature", "geometry": feature,
            "properties": {"area_m2": area, "mean_probability": 0.9}}  # fmt: skip


def _run(registry: Registry, aoi: Any, day: str, current: list[dict[str, Any]],
         records: list[ChangeRecord], previous: dict[str, Any] | None) -> int:  # fmt: skip
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    found = Found(f"{day}:S2", day, when, [{"id": f"S2_{day}"}], None)
    run_id = runs.claim(registry, aoi.id, found.key, when, acquisition_date=day).run_id
    assert run_id is not None
    known = [k[:3] for k in _known(registry, aoi)]
    res = Results(current, known, records, previous, {}, {})
    record_results(registry, aoi, run_id, found, res, {}, 0.0, {})
    return run_id


def test_merge_then_split_keep_their_lineage(db_url: str) -> None:
    with Registry(db_url) as registry:
        aoi = registry.add_aoi(AoiSettings("lineage", SQUARE, "/m", "ab" * 32,
                                           min_new_area_m2=100.0))  # fmt: skip
        first = _run(registry, aoi, "2023-03-01", [_box(0.0, 0.0003), _box(0.0005, 0.0006)],
                     [ChangeRecord("baseline", 0, None, 0.0),
                      ChangeRecord("baseline", 1, None, 0.0)], None)  # fmt: skip
        big, small = (k[0] for k in _known(registry, aoi))
        # the two merge into one polygon; the larger one's identity stays
        merged = [ChangeRecord("grown", 0, 0, 2000.0, merged_from=(1,)),
                  ChangeRecord("merged", 0, 1, 0.0, merged_into=0)]  # fmt: skip
        second = _run(registry, aoi, "2023-03-06", [_box(0.0, 0.0006)], merged,
                      {"id": first, "date": "2023-03-01"})  # fmt: skip
        changes = registry.changes_geojson(second)["features"]
        props = sorted((f["properties"] for f in changes), key=lambda p: p["kind"])
        assert [(p["kind"], p["landslide_id"], p["merged_from"], p["merged_into"]) for p in props] \
            == [("grown", big, [small], None), ("merged", small, [], big)]  # fmt: skip
        assert [k[0] for k in _known(registry, aoi)] == [big]  # the merged one is not matched
        with registry.session() as s:
            alert = s.scalars(select(Alert)).one()
            assert alert.payload["landslide"]["merged_from"] == [small]
            assert s.get_one(Landslide, small).merged_into_id == big
        # then it splits: the larger part keeps the identity, the other is new and says so
        split = [ChangeRecord("unchanged", 0, 0, 0.0),
                 ChangeRecord("split", 1, None, 0.0, split_from=0)]  # fmt: skip
        third = _run(registry, aoi, "2023-03-11", [_box(0.0, 0.0004), _box(0.00045, 0.0006)],
                     split, {"id": second, "date": "2023-03-06"})  # fmt: skip
        with registry.session() as s:
            row = s.scalars(
                select(Change).where(Change.run_id == third, Change.kind == "split")
            ).one()
            part = s.get_one(Landslide, row.landslide_id)
            assert (row.split_from_id, part.split_from_id, part.first_run_id) == (big, big, third)
            assert s.get_one(Landslide, big).last_run_id == third
            assert len(s.scalars(select(Alert)).all()) == 1  # a split part is not an alert
