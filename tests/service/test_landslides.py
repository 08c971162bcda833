"""``GET /landslides/{id}`` and ``POST /landslides/{id}/review`` over a copy of the monitored
area's registry (a review writes)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.service.conftest import settings_for
from tests.service.pipeline_fixture import AOI_NAME, Fixture

from slidewatch.service.app import create_app

KEYS = "alice:alice-key-0123456789,plain-key-0123456789"


@pytest.fixture
def writable(monitored: Fixture, tmp_path: Path) -> Iterator[TestClient]:
    """The monitored area with its registry copied (the archive read where it is)."""
    db = tmp_path / "registry.db"
    shutil.copy(monitored.home / "registry.db", db)
    settings = settings_for(monitored, db_url=f"sqlite:///{db}", api_keys=KEYS)
    with TestClient(create_app(settings)) as c:
        yield c


def _new_landslide(client: TestClient, monitored: Fixture) -> dict[str, object]:
    features = client.get(f"/runs/{monitored.run_ids[1]}/detections").json()["features"]
    (new,) = [f["properties"] for f in features if f["properties"]["change"] == "new"]
    return new


def test_a_landslide_shows_its_evidence_and_alerts(
    writable: TestClient, monitored: Fixture
) -> None:
    new = _new_landslide(writable, monitored)
    assert new["confidence"] == "possible" and new["looks"] == 1
    detail = writable.get(f"/landslides/{new['landslide_id']}").json()
    assert detail["confidence"] == "possible" and detail["looks"] == 1
    assert detail["aoi"] == AOI_NAME and detail["reviews"] == [] and detail["verdict"] is None
    (alert,) = detail["alerts"]
    assert alert["kind"] == "new" and alert["run_id"] == monitored.run_ids[1]
    assert detail["links"]["map"] == (
        f"/?aoi={AOI_NAME}&run={monitored.run_ids[1]}&landslide={new['landslide_id']}"
    )
    assert set(detail["attributes"]) == {"mean_slope_deg", "vegetation_change", "elevation_m"}
    assert writable.get("/landslides/424242").status_code == 404
    assert writable.get("/landslides/0").status_code == 404


def test_a_review_records_who_and_changes_the_confidence(
    writable: TestClient, monitored: Fixture
) -> None:
    slide = _new_landslide(writable, monitored)["landslide_id"]
    url = f"/landslides/{slide}/review"
    assert writable.post(url, json={"verdict": "rejected"}).status_code == 401
    wrong = writable.post(url, json={"verdict": "rejected"}, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 403
    bad = writable.post(
        url, json={"verdict": "maybe"}, headers={"X-API-Key": "alice-key-0123456789"}
    )
    assert bad.status_code == 422 and "verdict" in bad.text
    plain = {"X-API-Key": "plain-key-0123456789"}
    missing = writable.post(
        "/landslides/424242/review", json={"verdict": "confirmed"}, headers=plain
    )
    assert missing.status_code == 404

    done = writable.post(url, json={"verdict": "rejected", "note": "a road cut"},
                         headers={"X-API-Key": "alice-key-0123456789"})  # fmt: skip
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["confidence"] == "rejected" and body["verdict"] == "rejected"
    (review,) = body["reviews"]
    assert review["reviewer"] == "alice" and review["note"] == "a road cut"
    # the last verdict wins; every verdict is kept; an unnamed key is named by its place
    again = writable.post(url, json={"verdict": "confirmed"}, headers=plain).json()
    assert again["confidence"] == "confirmed"
    assert [r["reviewer"] for r in again["reviews"]] == ["alice", "key2"]
    # the alert list and the map's detections show the landslide's confidence now
    alerts = writable.get("/alerts?since=1970-01-01T00:00:00Z").json()
    (alert,) = [a for a in alerts if a["landslide_id"] == slide]
    assert alert["landslide_confidence"] == "confirmed" and alert["kind"] == "new"
    assert alert["acquisition_date"] == "2023-03-06"
    assert _new_landslide(writable, monitored)["confidence"] == "confirmed"


def test_a_failing_delivery_shows_its_last_error_without_server_paths(
    writable: TestClient, monitored: Fixture, tmp_path: Path
) -> None:
    from slidewatch.monitoring.kinds import DeliveryState
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Alert, Delivery

    slide = _new_landslide(writable, monitored)["landslide_id"]
    error = f"HTTP 503 (certificate at {tmp_path}/home/tls/receiver.pem)"
    with Registry(f"sqlite:///{tmp_path / 'registry.db'}") as registry, registry.session() as s:
        alert = s.query(Alert).filter(Alert.landslide_id == slide).one()
        s.add(Delivery(alert_id=alert.id, channel="webhook", target="https://hooks.example.org/x",
                       state=DeliveryState.PENDING, attempts=3, last_error=error,
                       last_status=503))  # fmt: skip
    alerts = writable.get("/alerts?since=1970-01-01T00:00:00Z").json()
    (shown,) = [a for a in alerts if a["landslide_id"] == slide]
    (delivery,) = [d for d in shown["deliveries"] if d["channel"] == "webhook"]
    assert delivery["state"] == "pending" and delivery["attempts"] == 3
    assert delivery["last_status"] == 503
    assert delivery["last_error"] == "HTTP 503 (certificate at receiver.pem)"
    detail = writable.get(f"/landslides/{slide}").text
    assert str(tmp_path) not in detail and "503" in detail
