"""Landslides per change kind: each landslide once, with its strongest kind."""

from __future__ import annotations

from tests.monitoring.registry.test_registry import SQUARE, settings

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.counts import landslide_kinds, run_counts
from slidewatch.monitoring.registry.tables import Change, Landslide, Run


def test_a_landslide_with_two_change_rows_counts_once(db_url: str) -> None:
    with Registry(db_url) as registry:
        aoi = registry.add_aoi(settings())
        with registry.session() as s:
            runs = [Run(aoi_id=aoi.id, acquisition_key=k, state="done") for k in ("a", "b", "c")]
            s.add_all(runs)
            s.flush()
            slides = [Landslide(aoi_id=aoi.id, first_run_id=runs[0].id, last_run_id=runs[1].id,
                                area_m2=1.0, geometry=SQUARE) for _ in range(3)]  # fmt: skip
            s.add_all(slides)
            s.flush()
            rows = [(slides[0], "grown"), (slides[0], "unchanged"),  # one landslide split in two
                    (slides[1], "unknown"), (slides[2], "new")]  # fmt: skip
            s.add_all(
                Change(run_id=runs[1].id, landslide_id=slide.id, kind=kind, area_m2=1.0,
                       changed_area_m2=0.0, geometry=SQUARE)
                for slide, kind in rows
            )  # fmt: skip
            ids = [r.id for r in runs]
            first = slides[0].id
        counts = run_counts(registry, ids)
        kinds = landslide_kinds(registry, ids)
    assert counts[ids[1]] == {"new": 1, "grown": 1, "unchanged": 0, "gone": 0, "unknown": 1}
    assert counts[ids[0]] == dict.fromkeys(("new", "grown", "unchanged", "gone", "unknown"), 0)
    assert kinds[ids[1]][first] == "grown" and kinds[ids[2]] == {}
