"""``--scheduler``: looks started by the server; two real servers on one registry (SQLite
file, and PostgreSQL when configured) never run an acquisition twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import require
from tests.monitoring.conftest import fresh_postgres_database
from tests.service.pipeline_fixture import Fixture, add_fresh_aoi
from tests.service.server_process import Server, start_server

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Alert
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'registry.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    require(bool(server), "no PostgreSQL URL")
    yield from fresh_postgres_database(server)


def _idle(server: Server) -> bool:
    health = server.health()
    return bool(health["scheduler_ticks"] >= 1 and not health["scheduler_looking"])


def test_two_servers_on_one_registry_run_each_acquisition_once(
    monitored: Fixture, tmp_path: Path, registry_url: str
) -> None:
    home = tmp_path / "home"
    add_fresh_aoi(monitored, home, "valley", "--db", registry_url)
    env = {"SLIDEWATCH_SCHEDULER_INTERVAL_S": "3600"}  # one look each, at start
    with ThreadPoolExecutor(2) as pool:  # both start (and look) at the same time
        servers = list(pool.map(lambda _: start_server(home, registry_url, "--scheduler", **env),
                                range(2)))  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not all(_idle(server) for server in servers):
            assert time.monotonic() < deadline, "the looks did not end within 600 s"
            time.sleep(0.5)
    finally:
        errors = [server.stop() for server in servers]
    assert not any("Traceback" in e for e in errors), errors
    with Registry(registry_url) as registry:
        runs = registry.runs("valley")
        done = sorted(r.acquisition_date for r in runs if r.state == "done")
        with registry.session() as s:
            alerts = s.query(Alert).count()
    assert done == ["2023-03-01", "2023-03-06"]  # each acquisition once, by one of the two
    assert len({r.acquisition_key for r in runs}) == len(runs)
    assert alerts == 1


def test_server_with_scheduler_starts_a_look(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path, scheduler=True, scheduler_interval_s=3600)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["scheduler"] is True
        scheduler = client.app.state.service.scheduler  # type: ignore[attr-defined]
        assert scheduler.ticks == 1
        assert scheduler.wait(timeout_s=300) == 0  # nothing registered: nothing due
        assert client.get("/health").json()["scheduler_looking"] is False
