"""A run started through the API (``POST /aois/{name}/runs``) delivers its alerts itself, no
shell involved: a signed webhook to a receiver on 127.0.0.1, verified with
``standardwebhooks``; and the two-date area with a cloud over part of the second date gives,
through the API, no new or grown landslide near the cloud."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape
from shapely.ops import transform
from tests.receivers import Keeping
from tests.service.conftest import API_KEY
from tests.service.pipeline_fixture import Fixture, add_fresh_aoi
from tests.service.test_processes import _wait_final

from slidewatch.monitoring.look.change import UNSEEN_BUFFER_PX
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

SECRET = "whsec_" + base64.b64encode(b"e18-receiver-secret-0123456789ab").decode()
KEY = {"X-API-Key": API_KEY}
PIXEL_M = 10.0


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[Keeping]]]:
    # a receiver on this machine: allowed explicitly (webhook targets refuse loopback)
    monkeypatch.setenv("SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
    handler = type("K", (Keeping,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()


def _metres(lon: float, lat: float) -> Transformer:
    zone = int((lon + 180) // 6) + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


def test_api_run_delivers_signed_alerts_and_none_near_the_cloud(
    monitored: Fixture, tmp_path: Path, receiver: tuple[str, type[Keeping]]
) -> None:
    from standardwebhooks.webhooks import Webhook

    url, handler = receiver
    home = tmp_path / "home"
    add_fresh_aoi(monitored, home, "valley", "--webhook", url, "--webhook-secret", SECRET)
    settings = ServiceSettings(home=home, api_keys=API_KEY, public_url="https://sw.example.org")
    with TestClient(create_app(settings)) as client:
        response = client.post("/aois/valley/runs", headers=KEY)
        assert response.status_code == 202, response.text
        job = _wait_final(client, response.json()["links"]["job"].removeprefix(
            "https://sw.example.org"), timeout_s=600)  # fmt: skip
        assert job["status"] == "successful", job
        runs = {r["acquisition_date"]: r for r in client.get("/aois/valley/runs").json()}
        alerts = client.get("/alerts?aoi=valley&since=1970-01-01T00:00:00Z").json()
        second = runs["2023-03-06"]
        detections = client.get(f"/runs/{second['id']}/detections").json()["features"]
        changes = client.get(f"/runs/{second['id']}/changes").json()["features"]

    # delivered by the run itself (no run-once), signed, with links under the public URL
    assert alerts and all(d["state"] == "delivered" for a in alerts for d in a["deliveries"])
    assert handler.received, "the receiver got nothing"
    body, headers = handler.received[0]
    lower = {k.lower(): v for k, v in headers.items()}
    event = Webhook(SECRET).verify(body, lower)
    assert event["specversion"] == "1.0" and event["type"].startswith("org.slidewatch.landslide.")
    text = json.dumps(event)
    assert str(home) not in text and "/pytest-of-" not in text
    assert "https://sw.example.org/?aoi=valley" in text

    # the cloud: no new or grown landslide within the unknown zone around it
    cloud = shape(monitored.example.cloud)
    centre = cloud.centroid
    to_m = _metres(centre.x, centre.y).transform
    zone = transform(to_m, cloud).buffer(UNSEEN_BUFFER_PX * PIXEL_M)
    near = [f for f in detections if f["properties"]["change"] in ("new", "grown")
            and transform(to_m, shape(f["geometry"])).intersects(zone)]  # fmt: skip
    assert near == [], near
    assert {f["properties"]["kind"] for f in changes} >= {"new", "unknown"}
    changed = [f for f in changes if f["properties"]["kind"] in ("new", "grown")
               and transform(to_m, shape(f["geometry"])).intersects(zone)]  # fmt: skip
    assert changed == []
    # and the new scar, away from the cloud, is new
    scar = shape(monitored.example.new_scar)
    assert any(f["properties"]["change"] == "new" and shape(f["geometry"]).intersects(scar)
               for f in detections)  # fmt: skip
