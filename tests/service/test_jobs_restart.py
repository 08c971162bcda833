"""Jobs after the server dies: a queued job runs on the next server, a running one that is
safe to repeat runs again, and one that is not fails with the reason."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.conftest import API_KEY
from tests.service.pipeline_fixture import Fixture
from tests.service.server_process import Server, start_server

KEY = {"X-API-Key": API_KEY}


@pytest.fixture
def silent_catalogue() -> Iterator[socket.socket]:
    """A listening socket on 127.0.0.1 that never answers: a STAC API that hangs (until the
    test closes it: then connections are refused)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener


def _wait(server: Server, path: str, done: Any, timeout_s: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = httpx.get(f"{server.url}{path}", timeout=30).json()
        if done(body):
            return dict(body)
        time.sleep(0.2)
    raise AssertionError(f"{path} did not get there in {timeout_s} s: {body}")


def test_jobs_survive_a_killed_server(
    monitored: Fixture, tmp_path: Path, silent_catalogue: socket.socket
) -> None:
    home = tmp_path / "home"
    shutil.copytree(monitored.home, home)
    db_url = f"sqlite:///{home.resolve() / 'registry.db'}"
    url = f"http://127.0.0.1:{silent_catalogue.getsockname()[1]}/"
    source = {"kind": "stac", "stac_url": url, "timeout_s": 600, "retries": 0}
    env = {"SLIDEWATCH_API_KEYS": API_KEY, "SLIDEWATCH_JOB_WORKERS": "2",
           "SLIDEWATCH_SOURCES": json.dumps({"default": source}),
           "SLIDEWATCH_MODELS_DIR": str(monitored.model.parent)}  # fmt: skip
    first = start_server(home, db_url, **env)
    inputs = {"aoi": monitored.example.aoi, "model": monitored.model.name,
              "event_date": "2023-03-04"}  # fmt: skip
    silent_aoi = {"type": "Feature", "geometry": monitored.example.aoi,
                  "properties": {"name": "silent", "model": monitored.model.name}}  # fmt: skip
    try:
        # two jobs wait on the silent catalogue in the two workers: detect, and run now
        detect = httpx.post(f"{first.url}/processes/detect/execution", json={"inputs": inputs},
                            headers=KEY, timeout=30)  # fmt: skip
        assert detect.status_code == 201, detect.text
        detect_job = detect.headers["location"]
        added = httpx.post(f"{first.url}/aois", json=silent_aoi, headers=KEY, timeout=30)
        assert added.status_code == 201, added.text
        ask = httpx.post(f"{first.url}/aois/silent/runs", headers=KEY, timeout=30)
        silent_run, silent_job = ask.headers["location"], ask.json()["links"]["job"]
        for job in (detect_job, silent_job):
            started = _wait(first, job, lambda s: s["status"] != "accepted", timeout_s=120)
            assert started["status"] == "running", started
        # and a third, queued behind them
        ask = httpx.post(f"{first.url}/aois/{monitored.aoi}/runs", headers=KEY, timeout=30)
        assert ask.status_code == 202, ask.text
        run, run_job = ask.headers["location"], ask.json()["links"]["job"]
        assert httpx.get(f"{first.url}{run_job}").json()["status"] == "accepted"
    finally:
        os.killpg(first.process.pid, signal.SIGKILL)  # the server and its workers, at once
        first.process.wait()
    silent_catalogue.close()  # the catalogue now refuses: a look run again fails fast

    second = start_server(home, db_url, **env)
    try:
        final = ("successful", "failed")
        failed = _wait(second, detect_job, lambda s: s["status"] != "running")
        again = _wait(second, silent_job, lambda s: s["status"] in final)
        resumed = _wait(second, run_job, lambda s: s["status"] in final)
        silent = _wait(second, silent_run, lambda r: r["state"] not in ("queued", "running"))
        finished = _wait(second, run, lambda r: r["state"] not in ("queued", "running"))
    finally:
        log = second.stop()
    # not safe to repeat: failed with the reason; a look: run again, and queued ones run
    assert failed["status"] == "failed" and "stopped" in failed["message"], failed
    assert again["status"] == "successful", again
    assert silent["state"] == "failed" and "search failed" in silent["reason"], silent
    assert resumed["status"] == "successful", resumed
    assert finished["state"] == "skipped" and "no new acquisition" in finished["reason"]
    assert "Traceback" not in log, log
