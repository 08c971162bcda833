"""Alert delivery through the outbox: webhook receivers and an SMTP server on 127.0.0.1.

Receivers that fail, redirect, refuse or hang; digests; Standard Webhooks signatures
verified with the ``standardwebhooks`` package; idempotency keys unique across homes."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.receivers import Keeping

from slidewatch.monitoring import alerts
from slidewatch.monitoring.alerts import Breakers, RetryPolicy, SmtpSettings
from slidewatch.monitoring.alerts.payload import digest
from slidewatch.monitoring.alerts.targets import TargetRules, parse_networks
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import (
    Alert,
    Aoi,
    Delivery,
    Landslide,
    Run,
    new_event_id,
)

SQUARE = {"type": "Polygon",
          "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]]}  # fmt: skip
FAST = RetryPolicy(base_s=0.05, inline_attempts=5)
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
LOCAL = TargetRules(parse_networks("127.0.0.0/8"))
"""The receivers here listen on 127.0.0.1: an on-premise network the operator allowed."""


def deliver_pending(registry: Registry, **options: Any) -> dict[str, int]:
    return alerts.deliver_pending(registry, targets=LOCAL, **options)


def envelope(landslide: int = 1, kind: str = "new") -> dict[str, Any]:
    alert_id = new_event_id()
    data = {
        "alert_id": alert_id, "kind": kind, "confidence": "possible", "run_id": 1,
        "aoi": {"name": "chosica"},
        "landslide": {"id": landslide, "area_m2": 2500.0, "changed_area_m2": 2500.0,
                      "probability": 0.9, "centroid_lonlat": [-76.65, -11.9], "looks": 1,
                      "first_seen": "2023-03-06", "last_seen": "2023-03-06",
                      "mean_slope_deg": 31.0, "vegetation_change": -0.3, "elevation_m": 900.0},
        "acquisition": {"date": "2023-03-06", "scene_ids": ["S2A_X"], "cloud_pct": 12.5},
        "model": {"name": "rgbn", "hash": "ab" * 32, "validation_f1": 0.71},
        "links": {"map": f"/?aoi=chosica&run=1&landslide={landslide}"},
    }  # fmt: skip
    return {"specversion": "1.0", "id": alert_id, "source": "/aois/chosica",
            "type": f"org.slidewatch.landslide.{kind}", "time": "2023-03-06T15:00:00+00:00",
            "subject": f"landslides/{landslide}", "data": data}  # fmt: skip


def _alerts(registry: Registry, channels: list[tuple[str, str]], n: int = 1,
            **aoi: Any) -> list[dict[str, Any]]:  # fmt: skip
    """``n`` alerts of one run, each to every channel target; their envelopes."""
    out = []
    with registry.session() as s:
        row = Aoi(name="chosica", geometry=SQUARE, model_path="/m", model_hash="ab" * 32, **aoi)
        s.add(row)
        s.flush()
        run = Run(aoi_id=row.id, acquisition_key="k", state="done")
        s.add(run)
        s.flush()
        for _ in range(n):
            slide = Landslide(aoi_id=row.id, first_run_id=run.id, last_run_id=run.id,
                              area_m2=2500.0, geometry=SQUARE)  # fmt: skip
            s.add(slide)
            s.flush()
            payload = envelope(slide.id)
            alert = Alert(aoi_id=row.id, run_id=run.id, landslide_id=slide.id, payload=payload,
                          event_id=payload["id"])  # fmt: skip
            alert.deliveries += [Delivery(channel=c, target=t) for c, t in channels]
            s.add(alert)
            out.append(payload)
    return out


def _alert(registry: Registry, channels: list[tuple[str, str]]) -> None:
    """One alert to every channel target (``tests/monitoring/alerts/test_targets.py``)."""
    _alerts(registry, channels)


def _deliveries(registry: Registry) -> list[tuple[str, str, int]]:
    with registry.session() as s:
        rows = s.query(Delivery).order_by(Delivery.id).all()
        return [(d.channel, d.state, d.attempts) for d in rows]


def test_webhook_500_twice_then_200_is_delivered_once(db_url: str, receiver) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    with Registry(db_url) as registry:
        (sent,) = _alerts(registry, [("webhook", url)])
        counts = deliver_pending(registry, policy=FAST, breakers=Breakers())
        assert counts == {"delivered": 1, "pending": 0, "failed": 0}
        assert _deliveries(registry) == [("webhook", "delivered", 3)]
        assert deliver_pending(registry, policy=FAST)["delivered"] == 0  # nothing left to send
    assert len(handler.received) == 1
    body, key = handler.received[0]
    assert body == sent and key == sent["id"] == sent["data"]["alert_id"]


def test_a_down_receiver_keeps_the_delivery_pending_with_its_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        _alerts(registry, [("webhook", "http://127.0.0.1:9/closed")])
        policy = RetryPolicy(base_s=0.01, inline_attempts=2, max_attempts=3)
        assert deliver_pending(registry, policy=policy, breakers=Breakers())["pending"] == 1
        with registry.session() as s:
            row = s.query(Delivery).one()
            assert row.attempts == 2 and "ConnectError" in (row.last_error or "")
            assert row.last_status is None
            row.next_attempt_at = row.next_attempt_at.replace(year=2000)  # due again
        assert deliver_pending(registry, policy=policy, breakers=Breakers())["failed"] == 1


class Redirecting(BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012

    def _answer(self) -> None:
        self.requests.append(self.command)
        self.send_response(301)
        self.send_header("Location", "/elsewhere")
        self.end_headers()

    do_POST = do_GET = _answer

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_redirect_is_a_failed_attempt_with_its_status(tmp_path) -> None:  # type: ignore[no-untyped-def]
    handler = type("R", (Redirecting,), {"requests": []})
    serving = _serve(handler)
    url = next(serving)
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        _alerts(registry, [("webhook", url)])
        policy = RetryPolicy(base_s=0.01, inline_attempts=2)
        assert deliver_pending(registry, policy=policy, breakers=Breakers())["delivered"] == 0
        with registry.session() as s:
            row = s.query(Delivery).one()
            assert (row.state, row.attempts, row.last_status) == ("pending", 2, 301)
            assert row.last_error is not None and row.last_error.startswith("HTTP 301")
    assert handler.requests == ["POST", "POST"]  # never followed with a GET
    next(serving, None)


class Hanging(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(30)  # accepts, never answers in time

    def log_message(self, *args: object) -> None:
        pass


def test_a_hanging_receiver_costs_a_pass_its_budget_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    serving = _serve(Hanging)
    url = next(serving)
    policy = RetryPolicy(read_timeout_s=0.3, connect_timeout_s=0.3, budget_s=1.0,
                         target_budget_s=0.7, base_s=0.01)  # fmt: skip
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        _alerts(registry, [("webhook", url)], n=4, alert_grouping="event")
        t = time.monotonic()
        counts = deliver_pending(registry, policy=policy, breakers=Breakers())
        elapsed = time.monotonic() - t
        attempts = sum(a for _, _, a in _deliveries(registry))
    assert counts["pending"] >= 2 and counts["delivered"] == 0
    assert attempts <= 3  # the target's budget (0.7 s) holds about two 0.3 s read timeouts
    assert elapsed < 5.0  # generous: the budget is 1 s; the receiver would hold 4 × 30 s


def test_the_circuit_opens_after_failures_in_a_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    breakers = Breakers()
    policy = RetryPolicy(base_s=0.01, inline_attempts=1, breaker_failures=2)
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        _alerts(registry, [("webhook", "http://127.0.0.1:9/closed")], n=6,
                alert_grouping="event")  # fmt: skip
        assert deliver_pending(registry, policy=policy, breakers=breakers)["pending"] == 6
        # two failures open the circuit: the other four wait without spending attempts
        assert [a for _, _, a in _deliveries(registry)] == [1, 1, 0, 0, 0, 0]
        assert breakers.is_open("http://127.0.0.1:9/closed", time.monotonic())


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base_s=0.5, max_wait_s=60.0)
    assert [policy.wait_s(n) for n in (1, 2, 3, 4, 10)] == [0.5, 1.0, 2.0, 4.0, 60.0]


@pytest.mark.parametrize(("grouping", "posts"), [("auto", 1), ("event", 7), ("digest", 1)])
def test_a_run_with_many_events_sends_one_digest(tmp_path, grouping: str, posts: int) -> None:  # type: ignore[no-untyped-def]
    handler = type("K", (Keeping,), {"received": []})
    serving = _serve(handler)
    url = next(serving)
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        sent = _alerts(registry, [("webhook", url)], n=7, alert_grouping=grouping)
        assert deliver_pending(registry, policy=FAST, breakers=Breakers())["delivered"] == 7
    assert len(handler.received) == posts
    if posts == 1:
        body = json.loads(handler.received[0][0])
        assert body["type"] == "org.slidewatch.landslide.digest" and body["data"]["count"] == 7
        assert sorted(body["data"]["alert_ids"]) == sorted(e["id"] for e in sent)
        assert body["id"] == digest(sent)["id"]  # stable: a retry carries the same key
    next(serving, None)


def test_signed_deliveries_verify_with_standard_webhooks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    handler = type("K", (Keeping,), {"received": []})
    serving = _serve(handler)
    url = next(serving)
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        (sent,) = _alerts(registry, [("webhook", url)], webhook_secret=SECRET)
        assert deliver_pending(registry, policy=FAST, breakers=Breakers())["delivered"] == 1
    ((body, headers),) = handler.received
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["webhook-id"] == sent["id"]
    assert Webhook(SECRET).verify(body, lower) == sent
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"chosica", b"chosicb"), lower)
    next(serving, None)


def test_idempotency_keys_are_unique_across_homes(tmp_path, receiver) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    handler.answers.clear()
    for home in ("a", "b"):
        with Registry(f"sqlite:///{tmp_path / f'{home}.db'}") as registry:
            _alerts(registry, [("webhook", url)])  # alert 1 of landslide 1 in each
            assert deliver_pending(registry, policy=FAST, breakers=Breakers())["delivered"] == 1
    keys = [key for _, key in handler.received]
    assert len(keys) == 2 and keys[0] != keys[1]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_email_through_a_local_smtp_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
            (sent,) = _alerts(registry, [("email", "duty@example.org")])
            smtp = SmtpSettings(host="127.0.0.1", port=port, sender="sw@example.org")
            assert deliver_pending(registry, smtp=smtp, policy=FAST)["delivered"] == 1
    finally:
        controller.stop()
    assert len(received) == 1
    message = received[0]
    assert message["To"] == "duty@example.org"
    from email.header import decode_header, make_header

    subject = " ".join(str(make_header(decode_header(message["Subject"]))).split())
    assert subject == ("[slidewatch] chosica: new landslide (possible), 2,500 m² at "
                       "11.9000°S 76.6500°W on 2023-03-06")  # fmt: skip
    parts = {p.get_content_type(): p for p in message.walk()}
    assert json.loads(parts["application/json"].get_payload(decode=True)) == sent
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert text.splitlines()[0] == subject.removeprefix("[slidewatch] ")
    assert "map: /?aoi=chosica&run=1&landslide=" in text and "S2A_X" in text
