"""The registry on a real database (SQLite file, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from slidewatch.errors import ConfigError, RegistryError
from slidewatch.monitoring.registry import Registry, upgrade
from slidewatch.monitoring.registry.aois import AoiSettings
from slidewatch.monitoring.registry.tables import (
    Alert,
    Base,
    Change,
    Delivery,
    Detection,
    Landslide,
    Run,
)

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-76.7, -11.95], [-76.6, -11.95], [-76.6, -11.85], [-76.7, -11.85],
                     [-76.7, -11.95]]],
}  # fmt: skip


def settings(name: str = "chosica", **kw: object) -> AoiSettings:
    base = dict(name=name, geometry=SQUARE, model_path="/m", model_hash="ab" * 32)
    return AoiSettings(**{**base, **kw})  # type: ignore[arg-type]


def test_migrations_create_exactly_the_tables(db_url: str) -> None:
    registry = Registry(db_url)
    with registry.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
        revision = MigrationContext.configure(c).get_current_revision()
    assert diff == []
    assert revision == "0003"
    Registry(db_url).close()  # opening an up-to-date database again is a no-op
    registry.close()


def test_upgrade_from_an_empty_database_step_by_step(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    upgrade(engine, "base")
    assert "aois" not in sa.inspect(engine).get_table_names()
    upgrade(engine, "0001")
    assert {"aois", "runs", "deliveries"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_a_database_of_the_previous_release_upgrades_with_its_rows(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    upgrade(engine, "0001")  # what 0.1.0 made, with a landslide and its change recorded
    rows = [
        "INSERT INTO aois (id, name, geometry, model_path, model_hash, source, cadence_days,"
        " lookback_days, min_new_area_m2, max_cloud_pct, webhooks, emails, active, created_at,"
        " updated_at) VALUES (1, 'old', '{}', '/m', 'ab', '{}', 5, 30, 0, 80, '[]', '[]', true,"
        " '2023-01-01 00:00:00', '2023-01-01 00:00:00')",
        "INSERT INTO runs (id, aoi_id, acquisition_key, state, scenes, timings, products, stats,"
        " created_at) VALUES (1, 1, 'k', 'done', '[]', '{}', '{}', '{}', '2023-01-01 00:00:00')",
        "INSERT INTO landslides (id, aoi_id, first_run_id, last_run_id, area_m2, geometry)"
        " VALUES (7, 1, 1, 1, 900.0, '{}')",
        "INSERT INTO detections (id, run_id, landslide_id, geometry, area_m2, mean_probability)"
        " VALUES (1, 1, 7, '{}', 900.0, 0.75)",
        "INSERT INTO alerts (id, aoi_id, run_id, landslide_id, created_at, payload)"
        " VALUES (1, 1, 1, 7, '2023-01-01 00:00:00', '{}')",
        "INSERT INTO deliveries (id, alert_id, channel, target, state, attempts,"
        " next_attempt_at) VALUES (1, 1, 'webhook', 'http://x', 'pending', 0,"
        " '2023-01-01 00:00:00')",
    ]
    with engine.begin() as c:
        for row in rows:
            c.execute(sa.text(row))
    engine.dispose()
    with Registry(db_url) as registry, registry.session() as s:
        slide = s.get_one(Landslide, 7)
        assert (slide.area_m2, slide.merged_into_id, slide.split_from_id) == (900.0, None, None)
        columns = {c["name"] for c in sa.inspect(s.connection()).get_columns("changes")}
        assert {"merged_from", "merged_into_id", "split_from_id"} <= columns
        # 0003: evidence from its detections, the alert a "new" event with a UUID
        assert (slide.confidence, slide.looks, slide.max_probability) == ("possible", 1, 0.75)
        alert = s.get_one(Alert, 1)
        assert (alert.kind, alert.confidence, len(alert.event_id)) == ("new", "possible", 36)
        assert s.get_one(Delivery, 1).last_status is None  # SQLite's table copies keep rows
        assert registry.get_aoi("old").to_dict()["alert_on"] == "possible"


def test_aoi_crud(db_url: str) -> None:
    with Registry(db_url) as registry:
        registry.add_aoi(settings(webhooks=("http://127.0.0.1:9/hook",)))
        registry.add_aoi(settings("beta", cadence_days=10))
        assert [a.name for a in registry.list_aois()] == ["beta", "chosica"]
        aoi = registry.get_aoi("chosica")
        assert aoi.geometry == SQUARE and aoi.webhooks == ["http://127.0.0.1:9/hook"]
        assert aoi.created_at.tzinfo is not None
        registry.update_aoi("chosica", active=False, min_new_area_m2=500.0)
        assert registry.get_aoi("chosica").min_new_area_m2 == 500.0
        assert [a.name for a in registry.list_aois(active=True)] == ["beta"]
        registry.delete_aoi("beta")
        with pytest.raises(RegistryError, match="unknown AOI 'beta'; registered: chosica"):
            registry.get_aoi("beta")
        assert registry.get_aoi("chosica").to_dict()["active"] is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Bad Name"}, "lower-case"),
        ({"geometry": {"type": "Point", "coordinates": [0, 0]}}, "a Point"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                           [0, 0]]]}}, "Self-intersection"),
        ({"cadence_days": 0}, "cadence_days"),
        ({"webhooks": ("ftp://x",)}, "webhook"),
        ({"emails": ("nobody",)}, "e-mail"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused(tmp_path, changes: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        with pytest.raises(ConfigError, match=message):
            registry.add_aoi(settings(**changes))
        assert registry.list_aois() == []


def test_duplicate_names_and_unknown_updates(db_url: str) -> None:
    with Registry(db_url) as registry:
        registry.add_aoi(settings())
        with pytest.raises(ConfigError, match="already exists"):
            registry.add_aoi(settings())
        with pytest.raises(ConfigError, match="cannot update colour"):
            registry.update_aoi("chosica", colour="red")


def _run(registry: Registry, key: str, date: str, state: str = "done") -> int:
    aoi = registry.get_aoi("chosica")
    with registry.session() as s:
        run = Run(aoi_id=aoi.id, acquisition_key=key, acquisition_date=date, state=state)
        s.add(run)
        s.flush()
        return run.id


def test_runs_are_unique_per_acquisition_and_results_query(db_url: str) -> None:
    with Registry(db_url) as registry:
        registry.add_aoi(settings())
        first = _run(registry, "k1", "2023-03-01")
        second = _run(registry, "k2", "2023-03-06")
        with pytest.raises(IntegrityError):
            _run(registry, "k1", "2023-03-01")
        assert [r.id for r in registry.runs("chosica")] == [second, first]
        assert registry.run(first).to_dict()["aoi"] == "chosica"
        with pytest.raises(RegistryError, match="unknown run 999"):
            registry.run(999)
        with registry.session() as s:
            slide = Landslide(aoi_id=registry.get_aoi("chosica").id, first_run_id=second,
                              last_run_id=second, area_m2=900.0, geometry=SQUARE)  # fmt: skip
            s.add(slide)
            s.flush()
            s.add(Detection(run_id=second, landslide_id=slide.id, geometry=SQUARE,
                            area_m2=900.0, mean_probability=0.8))  # fmt: skip
            s.add(Change(run_id=second, landslide_id=slide.id, kind="new", area_m2=900.0,
                         changed_area_m2=900.0, geometry=SQUARE))  # fmt: skip
            alert = Alert(aoi_id=slide.aoi_id, run_id=second, landslide_id=slide.id,
                          payload={"aoi": "chosica"})  # fmt: skip
            alert.deliveries.append(Delivery(channel="webhook", target="http://127.0.0.1:9/"))
            s.add(alert)
        features = registry.detections_geojson(second)["features"]
        assert [f["properties"]["area_m2"] for f in features] == [900.0]
        assert registry.detections_geojson(first)["features"] == []
        assert registry.changes_geojson(second)["features"][0]["properties"]["kind"] == "new"
        now = datetime.now(UTC)
        alerts = registry.alerts_since(now - timedelta(minutes=5), aoi="chosica")
        assert [a.payload for a in alerts] == [{"aoi": "chosica"}]
        assert alerts[0].deliveries[0].state == "pending"
        assert registry.alerts_since(now + timedelta(minutes=5)) == []
        registry.delete_aoi("chosica")  # cascades through runs, landslides and alerts
        assert registry.alerts_since(now - timedelta(minutes=5)) == []
