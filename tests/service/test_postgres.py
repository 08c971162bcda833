"""The same API answers on PostgreSQL (the registry of several processes or machines)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.service.conftest import settings_for
from tests.service.pipeline_fixture import Fixture

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Base
from slidewatch.service.app import create_app


@pytest.fixture
def postgres_copy(postgres_url: str, monitored: Fixture) -> Iterator[str]:
    """A fresh PostgreSQL database holding every row of the monitored SQLite registry."""
    name = f"swsvc_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        Registry(url).close()  # the migrations create the schema
        source = sa.create_engine(monitored.db_url)
        target = sa.create_engine(url)
        with source.connect() as read, target.begin() as write:
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in read.execute(sa.select(table))]
                if rows:
                    write.execute(sa.insert(table), rows)
                if "id" in table.c:  # keep the sequences ahead of the copied ids
                    write.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'id'), (SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                        )
                    )
        source.dispose()
        target.dispose()
        yield url
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_api_answers_the_same_on_postgresql(
    postgres_copy: str, monitored: Fixture, client: TestClient
) -> None:
    with TestClient(create_app(settings_for(monitored, db_url=postgres_copy))) as pg:
        for url in (
            "/aois",
            f"/aois/{monitored.aoi}/runs",
            "/alerts?since=2000-01-01T00:00:00Z",
            *(f"/runs/{r}/detections" for r in monitored.run_ids),
            *(f"/runs/{r}/changes" for r in monitored.run_ids),
            *(f"/landslides/{i}" for i in _landslide_ids(client, monitored.run_ids[-1])),
        ):
            here, there = client.get(url), pg.get(url)
            assert there.status_code == 200, (url, there.text)
            assert _comparable(there.json()) == _comparable(here.json()), url
        assert pg.get("/health").json()["database"] is True


def _landslide_ids(client: TestClient, run_id: int) -> list[int]:
    """The landslides of a run: the new one (alerted) and the largest, to compare."""
    features = client.get(f"/runs/{run_id}/detections").json()["features"]
    new = [f["properties"]["landslide_id"] for f in features if f["properties"]["change"] == "new"]
    largest = max(features, key=lambda f: f["properties"]["area_m2"])["properties"]
    return sorted({*new, largest["landslide_id"]})


def _comparable(value: object) -> object:
    """Drop the per-process fields (times are equal, but links are the same too)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in ("updated_at",)}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value
