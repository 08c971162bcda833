"""Alerts a responder can act on, through the CLI as a user runs it, on three SYNTHETIC dates:
the second date has a cloud over an old scar and over most of a second new scar; the third
is clear. The first new scar is alerted ``new`` (possible) on the second date and
``confirmed`` on the third; the half-hidden one is never new within the edge rule's distance
of the cloud on the second date, and is alerted ``new`` on the clear third. Events are
CloudEvents, signed (verified with ``standardwebhooks``), links absolute under the public
URL; ``monitor history`` lists them with their deliveries; a review changes the landslide."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from scipy.ndimage import distance_transform_edt
from shapely.geometry import shape
from tests.monitoring.cli_runner import run_cli
from tests.monitoring.model import SOURCE_BANDS

from slidewatch.monitoring.kinds import NEW, UNKNOWN
from slidewatch.monitoring.look.change import UNSEEN_BUFFER_PX
from slidewatch.monitoring.registry import Registry

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
PUBLIC = "https://slidewatch.example.org/base"
DAYS = (1, 6, 11)


class Keeping(BaseHTTPRequestHandler):
    received: list[tuple[bytes, dict[str, str]]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[Keeping]]]:
    handler = type("K", (Keeping,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()


def three_dates(root: Path) -> dict[str, Any]:
    """The catalogue and the outlines (lon/lat) of the scars and clouds."""
    from slidewatch.synthetic import area_bands, write_catalog
    from slidewatch.synthetic.area import CRS, ORIGIN, slope_degrees
    from slidewatch.synthetic.example import (
        MARGIN_PX,
        _largest_scar_box,
        _new_scar_site,
        lonlat_box,
    )
    from slidewatch.synthetic.scenes import SyntheticScene

    size, seed = 180, 3
    bands1, dem, scars = area_bands(size, size, seed)
    rows, cols = _largest_scar_box(scars)
    old_cloud = (slice(max(rows.start - 4, 0), rows.stop + 4),
                 slice(max(cols.start - 4, 0), cols.stop + 4))  # fmt: skip
    taken = scars.copy()
    taken[old_cloud] = True
    steep = slope_degrees(dem)
    r1, c1 = _new_scar_site(taken, steep, (9, 7))
    taken[max(r1 - 24, 0) : r1 + 33, max(c1 - 24, 0) : c1 + 31] = True
    r2, c2 = _new_scar_site(taken, steep, (9, 7))
    first, second = (slice(r1, r1 + 9), slice(c1, c1 + 7)), (slice(r2, r2 + 9), slice(c2, c2 + 7))
    edge_cloud = (slice(max(r2 - 6, 0), r2 + 15), slice(c2 + 3, min(c2 + 21, size)))
    scars2 = scars.copy()
    scars2[first] = scars2[second] = True
    bands2, _, _ = area_bands(size, size, seed, scars=scars2)
    cloud = np.zeros_like(scars)
    cloud[old_cloud] = cloud[edge_cloud] = True

    def day(d: int) -> datetime:
        return datetime(2023, 3, d, 15, tzinfo=UTC)

    scenes = [SyntheticScene("S2A_THREE_20230301", day(1), bands1),
              SyntheticScene("S2B_THREE_20230306", day(6), bands2, cloud=cloud),
              SyntheticScene("S2A_THREE_20230311", day(11), bands2)]  # fmt: skip
    catalog = write_catalog(root.resolve(), scenes, dem)
    inner = slice(MARGIN_PX, size - MARGIN_PX)
    return {"catalog": catalog, "aoi": lonlat_box(inner, inner, ORIGIN, CRS),
            "first": lonlat_box(*first, ORIGIN, CRS), "second": lonlat_box(*second, ORIGIN, CRS),
            "edge_cloud": lonlat_box(*edge_cloud, ORIGIN, CRS)}  # fmt: skip


def _events(handler: type[Keeping]) -> list[dict[str, Any]]:
    from standardwebhooks.webhooks import Webhook

    return [Webhook(SECRET).verify(body, headers) for body, headers in handler.received]


def test_three_dates_new_then_confirmed_and_no_alarm_at_the_cloud_edge(
    tmp_path: Path, threshold_model: Path, webhook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = webhook
    area = three_dates(tmp_path / "catalog")
    home = tmp_path / "home"
    (tmp_path / "aoi.geojson").write_text(json.dumps(area["aoi"]))
    run_cli("monitor", "add", "valley", "--aoi", str(tmp_path / "aoi.geojson"), "--model",
            str(threshold_model), "--stac-url", str(area["catalog"]), "--bands",
            f"{SOURCE_BANDS},slope,dem",  # the terrain for the slope and elevation
            "--min-new-area-m2", "1000", "--webhook", url, "--webhook-secret", SECRET,
            "--home", str(home))  # fmt: skip
    monkeypatch.setenv("SLIDEWATCH_PUBLIC_URL", PUBLIC)
    delivered: list[list[dict[str, Any]]] = []
    for day in DAYS:
        _, out, _ = run_cli("monitor", "run-once", "--now", f"2023-03-{day + 2:02d}T00:00:00Z",
                            "--home", str(home))  # fmt: skip
        assert f"2023-03-{day:02d} done" in " ".join(out.split()), out
        delivered.append(_events(handler)[sum(len(d) for d in delivered) :])
    first, second = shape(area["first"]), shape(area["second"])

    def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        where = {True: "first", False: "second"}
        return sorted((where[shape(e["data"]["landslide"]["geometry"]).intersects(first)],
                       e["data"]["kind"], e["data"]["confidence"]) for e in events)  # fmt: skip

    assert delivered[0] == []  # the baseline raises nothing
    assert kinds(delivered[1]) == [("first", "new", "possible")]
    # the half-hidden scar: seen only in the edge zone on the cloudy date (no look, no
    # alert), then "new" on the clear date
    assert kinds(delivered[2]) == [("first", "confirmed", "confirmed"),
                                   ("second", "new", "possible")]  # fmt: skip
    for event in delivered[1] + delivered[2]:
        data = event["data"]
        assert event["type"] == f"org.slidewatch.landslide.{data['kind']}"
        assert event["id"] == data["alert_id"] and event["source"] == f"{PUBLIC}/aois/valley"
        assert data["links"]["map"].startswith(f"{PUBLIC}/?aoi=valley&run=")
        assert data["links"]["stac_item"].startswith(f"{PUBLIC}/runs/")
        assert data["landslide"]["mean_slope_deg"] > 0 and data["landslide"]["elevation_m"] > 0
        assert str(tmp_path) not in json.dumps(event)  # no server path anywhere
    confirmed = next(e for e in delivered[2] if e["data"]["kind"] == "confirmed")["data"]
    assert confirmed["landslide"]["looks"] == 2
    assert confirmed["landslide"]["vegetation_change"] is not None  # a before to compare

    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        runs = sorted(registry.runs("valley"), key=lambda r: r.acquisition_date)
        changes = registry.changes_geojson(runs[1].id)["features"]
        change_tif = runs[1].products["change.tif"]
    # the edge rule on the cloudy date: no new or grown polygon at the cloud's edge, no new
    # pixel within its distance of anything unseen
    alarms = [f for f in changes if f["properties"]["kind"] in ("new", "grown")]
    assert alarms and all(not shape(f["geometry"]).intersects(second) for f in alarms)
    assert all(shape(f["geometry"]).intersects(first) for f in alarms)
    with rasterio.open(change_tif) as ds:
        change = ds.read(1)
    distance = distance_transform_edt(change != UNKNOWN)
    assert (change == NEW).any() and distance[change == NEW].min() > UNSEEN_BUFFER_PX

    _, history, _ = run_cli("monitor", "history", "valley", "--home", str(home))
    assert "confirmed confirmed" in " ".join(history.split())
    assert "webhook http://127.0.0.1/… delivered (1 attempt)" in history

    landslide = next(e for e in delivered[2] if e["data"]["kind"] == "new")["data"]["landslide"]
    _, reviewed, _ = run_cli("monitor", "review", str(landslide["id"]), "--verdict", "rejected",
                             "--note", "road works", "--home", str(home))  # fmt: skip
    assert "confidence now rejected" in reviewed
