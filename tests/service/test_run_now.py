"""Run now: ``POST /aois/{name}/runs`` answers with the queued run, which a worker runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.service.conftest import API_KEY
from tests.service.pipeline_fixture import LOOKS, SRC, Fixture, add_fresh_aoi, run_cli
from tests.service.test_processes import _wait_final

from slidewatch.monitoring.look import MonitorConfig
from slidewatch.monitoring.look.queue import queue_run, run_queued
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Alert, Run
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}


def _states(client: TestClient, location: str, timeout_s: float = 600) -> list[str]:
    """The run's states as polled, without repeats, until it is finished."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = client.get(location).json()["state"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ("done", "skipped", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{location} did not finish in {timeout_s} s: {seen}")


def test_run_now_shows_the_run_queued_running_done(monitored: Fixture, tmp_path: Path) -> None:
    home = tmp_path / "home"
    add_fresh_aoi(monitored, home)
    with TestClient(create_app(ServiceSettings(home=home, api_keys=API_KEY))) as client:
        response = client.post("/aois/valley/runs", headers=KEY)
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        assert response.json()["state"] == "queued" and location.startswith("/runs/")
        states = _states(client, location)
        run = client.get(location).json()
        job = _wait_final(client, response.json()["links"]["job"], timeout_s=600)
        assert job["status"] == "successful", job
        runs = client.get("/aois/valley/runs").json()
    assert states[-1] == "done" and "running" in states, states
    assert run["acquisition_date"] == "2023-03-01" and "landslides.tif" in run["products"]
    # the look went on with the later acquisition, in a run of its own
    assert sorted((r["acquisition_date"], r["state"]) for r in runs) == [
        ("2023-03-01", "done"), ("2023-03-06", "done")]  # fmt: skip
    # run-once afterwards finds nothing new: the queued run kept the (AOI, acquisition) key
    code, output = run_cli("monitor", "run-once", "--now", LOOKS[1], "--home", str(home))
    assert code == 0, output
    with Registry(f"sqlite:///{home.resolve() / 'registry.db'}") as registry:
        after = registry.runs("valley")
    assert len({r.acquisition_key for r in after}) == len(after)
    assert sorted(r.acquisition_date for r in after if r.state == "done") == [
        "2023-03-01", "2023-03-06"]  # fmt: skip


def test_queued_run_of_an_acquisition_that_has_a_run(monitored: Fixture, tmp_path: Path) -> None:
    """The newest acquisition's run failed: the queued row names that run, which is retried."""
    home = tmp_path / "home"
    shutil.copytree(monitored.home, home)
    db_url = f"sqlite:///{home.resolve() / 'registry.db'}"
    failed_id = monitored.run_ids[-1]
    with Registry(db_url) as registry:
        with registry.session() as s:
            s.execute(update(Run).where(Run.id == failed_id).values(state="failed"))
        queued = queue_run(registry, monitored.aoi)
    config = MonitorConfig(db_url=db_url, storage=str(home / "archive"),
                           work_dir=str(home / "work"))  # fmt: skip
    now = datetime(2023, 3, 10, tzinfo=UTC)
    outcomes = run_queued(config, queued.id, now)
    assert [(o.run_id, o.state) for o in outcomes] == [(failed_id, "done")]
    with Registry(db_url) as registry:
        mine = registry.run(queued.id)
        assert mine.state == "skipped" and f"/runs/{failed_id}" in (mine.reason or "")
        assert registry.run(failed_id).state == "done"
    # asked again, a finished queued run does nothing
    assert [o.state for o in run_queued(config, queued.id, now)] == ["skipped"]


def test_run_now_beside_a_run_once_processes_each_acquisition_once(
    monitored: Fixture, tmp_path: Path
) -> None:
    """A client's run now and cron's run-once at the same time, on one registry."""
    home = tmp_path / "home"
    add_fresh_aoi(monitored, home)
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "slidewatch", "monitor", "run-once", "--home", str(home)]
    with TestClient(create_app(ServiceSettings(home=home, api_keys=API_KEY))) as client:
        cron = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        response = client.post("/aois/valley/runs", headers=KEY)
        assert response.status_code == 202, response.text
        job = _wait_final(client, response.json()["links"]["job"], timeout_s=600)
        assert cron.wait(timeout=600) == 0 and job["status"] == "successful", job
        mine = client.get(response.headers["location"]).json()
    with Registry(f"sqlite:///{home.resolve() / 'registry.db'}") as registry:
        runs = registry.runs("valley")
        with registry.session() as s:
            alerts = s.query(Alert).count()
    assert sorted(r.acquisition_date for r in runs if r.state == "done") == [
        "2023-03-01", "2023-03-06"]  # fmt: skip
    assert len({r.acquisition_key for r in runs}) == len(runs)
    assert not [r for r in runs if r.state in ("queued", "running")]
    assert mine["state"] in ("done", "skipped") and alerts == 1
