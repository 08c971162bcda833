"""``--scheduler``: looks started by the server; two servers never run an acquisition twice."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from tests.monitoring.model import SOURCE_BANDS
from tests.service.pipeline_fixture import Fixture, run_cli

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.tables import Alert
from slidewatch.service.app import create_app
from slidewatch.service.scheduler import Scheduler
from slidewatch.service.settings import ServiceSettings


def test_two_schedulers_on_one_registry_run_each_acquisition_once(
    monitored: Fixture, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(monitored.example.aoi))
    code, output = run_cli(
        "monitor",
        "add",
        "valley",
        "--aoi",
        str(aoi),
        "--model",
        str(monitored.model),
        "--stac-url",
        str(monitored.example.catalog),
        "--bands",
        SOURCE_BANDS,
        "--lookback-days",
        "20000",
        "--home",
        str(home),
    )
    assert code == 0, output
    settings = ServiceSettings(home=home, scheduler_interval_s=3600)
    servers = [Scheduler(settings), Scheduler(settings)]
    starts = [threading.Thread(target=s.tick) for s in servers]
    for t in starts:
        t.start()
    for t in starts:
        t.join()
    assert [s.wait(timeout_s=600) for s in servers] in ([0, 0], [0, 1], [1, 0])
    with Registry(f"sqlite:///{home.resolve() / 'registry.db'}") as registry:
        runs = registry.runs("valley")
        done = sorted(r.acquisition_date for r in runs if r.state == "done")
        with registry.session() as s:
            alerts = s.query(Alert).count()
    assert done == ["2023-03-01", "2023-03-06"]  # each acquisition once, by one of the two
    assert len({(r.acquisition_key) for r in runs}) == len(runs)
    assert alerts == 1


def test_server_with_scheduler_starts_a_look(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path, scheduler=True, scheduler_interval_s=3600)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["scheduler"] is True
        scheduler = client.app.state.service.scheduler  # type: ignore[attr-defined]
        assert scheduler.ticks == 1
        assert scheduler.wait(timeout_s=300) == 0  # nothing registered: nothing due
