"""OGC API - Processes: process list and description, async execution, jobs, dismissal."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import shape
from tests.service.conftest import API_KEY, SMALL_AOI
from tests.service.pipeline_fixture import Fixture

from slidewatch.monitoring.registry import Registry
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}


def _inputs(**extra: Any) -> dict[str, Any]:
    return {"inputs": {"aoi": SMALL_AOI, "model": "tiny", "event_date": "2024-06-01", **extra}}


def test_process_list_and_description(fresh: TestClient) -> None:
    listed = fresh.get("/processes").json()["processes"]
    assert [p["id"] for p in listed] == ["detect"]
    description = fresh.get("/processes/detect").json()
    assert {"aoi", "model", "event_date", "start", "end"} <= set(description["inputs"])
    assert "async-execute" in description["jobControlOptions"]
    assert fresh.get("/processes/other").status_code == 404
    assert (
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"
        in (fresh.get("/conformance").json()["conformsTo"])
    )


def test_execution_validates_inputs(fresh: TestClient) -> None:
    url = "/processes/detect/execution"
    assert fresh.post(url, json={"inputs": {"model": "tiny"}}, headers=KEY).status_code == 422
    both = _inputs(start="2024-01-01", end="2024-02-01")
    assert fresh.post(url, json=both, headers=KEY).status_code == 422
    backwards = {
        "inputs": {
            **_inputs()["inputs"],
            "event_date": None,
            "start": "2024-03-01",
            "end": "2024-02-01",
        }
    }
    assert fresh.post(url, json=backwards, headers=KEY).status_code == 422
    assert fresh.post(url, json=_inputs(model="nope"), headers=KEY).status_code == 422
    point = {"inputs": {**_inputs()["inputs"], "aoi": {"type": "Point", "coordinates": [1, 2]}}}
    assert fresh.post(url, json=point, headers=KEY).status_code == 422
    assert fresh.post("/processes/other/execution", json=_inputs(), headers=KEY).status_code == 404


def _wait_final(client: TestClient, location: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(location).json()
        if status["status"] in ("successful", "failed", "dismissed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{location} did not finish in {timeout_s} s")


def test_async_job_lifecycle(fresh: TestClient) -> None:
    """A job whose source has no catalogue fails with the reason, in its worker process."""
    response = fresh.post("/processes/detect/execution", json=_inputs(), headers=KEY)
    assert response.status_code == 201
    location = response.headers["location"]
    assert location == f"/jobs/{response.json()['jobID']}"
    assert response.json()["status"] == "accepted"
    assert [j["jobID"] for j in fresh.get("/jobs").json()["jobs"]] == [response.json()["jobID"]]
    final = _wait_final(fresh, location)
    assert final["status"] == "failed" and final["message"]
    assert fresh.get(f"{location}/results").status_code == 404
    dismissed = fresh.delete(location, headers=KEY)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert fresh.delete(location, headers=KEY).status_code == 409
    assert fresh.get("/jobs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_detect_job_finds_the_new_scar(monitored: Fixture, tmp_path: Path) -> None:
    """The whole process: search the catalogue, fetch, detect (ONNX, in the worker), results."""
    with Registry(monitored.db_url) as registry:
        source = registry.get_aoi(monitored.aoi).source
    settings = ServiceSettings(
        home=tmp_path,
        api_keys=API_KEY,
        sources={"default": source},
        models_dir=monitored.model.parent,
    )
    body = {
        "inputs": {
            "aoi": monitored.example.aoi,
            "model": monitored.model.name,
            "event_date": "2023-03-04",
        }
    }
    with TestClient(create_app(settings)) as client:
        response = client.post("/processes/detect/execution", json=body, headers=KEY)
        assert response.status_code == 201, response.text
        final = _wait_final(client, response.headers["location"], timeout_s=600)
        assert final["status"] == "successful", final["message"]
        answer = client.get(f"{response.headers['location']}/results")
        results = answer.json()
    assert results["summary"]["acquisition_date"] == "2023-03-06"
    # no server path in the results: files under the jobs folder are named relative to it
    assert "/pytest-of-" not in answer.text and str(tmp_path) not in answer.text
    assert all(not p.startswith("/") for p in results["summary"]["scene"]["paths"])
    scar = shape(monitored.example.new_scar)
    assert any(shape(f["geometry"]).intersects(scar) for f in results["landslides"]["features"])


def test_run_now_queues_a_look(monitored: Fixture, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(monitored.home, home)
    settings = ServiceSettings(home=home, api_keys=API_KEY)
    with TestClient(create_app(settings)) as client:
        assert client.post(f"/aois/{monitored.aoi}/runs").status_code == 401
        assert client.post("/aois/nowhere/runs", headers=KEY).status_code == 404
        response = client.post(f"/aois/{monitored.aoi}/runs", headers=KEY)
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        assert location == f"/runs/{response.json()['id']}"
        assert response.json()["state"] == "queued"
        job = response.json()["links"]["job"]
        final = _wait_final(client, job, timeout_s=600)
        assert final["status"] == "successful", final["message"]
        (outcome,) = client.get(f"{job}/results").json()["runs"]
        run = client.get(location).json()
    assert outcome["state"] == "skipped" and "no new acquisition" in outcome["reason"]
    assert outcome["href"] == location
    assert run["state"] == "skipped" and "no new acquisition" in run["reason"]
