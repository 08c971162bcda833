"""Alert delivery through the outbox: a webhook receiver and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

from slidewatch.monitoring import alerts
from slidewatch.monitoring.alerts import RetryPolicy, SmtpSettings
from slidewatch.monitoring.alerts.targets import TargetRules, parse_networks
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Alert, Aoi, Delivery, Landslide, Run

SQUARE = {"type": "Polygon",
          "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]]}  # fmt: skip
PAYLOAD = {
    "aoi": {"name": "chosica"},
    "landslide": {"id": 1, "kind": "new", "area_m2": 2500.0, "changed_area_m2": 2500.0,
                  "mean_probability": 0.9, "centroid_lonlat": [0.05, 0.05]},
    "acquisition": {"date": "2023-03-06", "scene_ids": ["S2A_X"], "cloud_pct": 12.5},
    "model": {"path": "/m", "hash": "ab" * 32},
    "products": {"landslides.tif": "/archive/chosica/2023-03-06/landslides.tif"},
}  # fmt: skip
FAST = RetryPolicy(base_s=0.05, inline_attempts=5)
LOCAL = TargetRules(parse_networks("127.0.0.0/8"))
"""The receivers here listen on 127.0.0.1: an on-premise network the operator allowed."""


def deliver_pending(registry: Registry, **options: Any) -> dict[str, int]:
    return alerts.deliver_pending(registry, targets=LOCAL, **options)


def _alert(registry: Registry, channels: list[tuple[str, str]]) -> None:
    with registry.session() as s:
        aoi = Aoi(name="chosica", geometry=SQUARE, model_path="/m", model_hash="ab" * 32)
        s.add(aoi)
        s.flush()
        run = Run(aoi_id=aoi.id, acquisition_key="k", state="done")
        s.add(run)
        s.flush()
        slide = Landslide(aoi_id=aoi.id, first_run_id=run.id, last_run_id=run.id,
                          area_m2=2500.0, geometry=SQUARE)  # fmt: skip
        s.add(slide)
        s.flush()
        alert = Alert(aoi_id=aoi.id, run_id=run.id, landslide_id=slide.id, payload=PAYLOAD)
        alert.deliveries += [Delivery(channel=c, target=t) for c, t in channels]
        s.add(alert)


def _deliveries(registry: Registry) -> list[tuple[str, str, int]]:
    with registry.session() as s:
        rows = s.query(Delivery).order_by(Delivery.id).all()
        return [(d.channel, d.state, d.attempts) for d in rows]


def test_webhook_500_twice_then_200_is_delivered_once(db_url: str, receiver) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    with Registry(db_url) as registry:
        _alert(registry, [("webhook", url)])
        assert deliver_pending(registry, policy=FAST) == {
            "delivered": 1,
            "pending": 0,
            "failed": 0,
        }
        assert _deliveries(registry) == [("webhook", "delivered", 3)]
        assert deliver_pending(registry, policy=FAST)["delivered"] == 0  # nothing left to send
    assert len(handler.received) == 1
    body, key = handler.received[0]
    assert body == PAYLOAD and key.startswith("slidewatch-alert-")


def test_a_down_receiver_keeps_the_delivery_pending(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        _alert(registry, [("webhook", "http://127.0.0.1:9/closed")])
        policy = RetryPolicy(base_s=0.01, inline_attempts=2, max_attempts=3)
        assert deliver_pending(registry, policy=policy)["pending"] == 1
        with registry.session() as s:
            row = s.query(Delivery).one()
            assert row.attempts == 2 and "Connection refused" in (row.last_error or "")
            row.next_attempt_at = row.next_attempt_at.replace(year=2000)  # due again
        assert deliver_pending(registry, policy=policy)["failed"] == 1  # gave up at 3


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
            _alert(registry, [("email", "duty@example.org")])
            smtp = SmtpSettings(host="127.0.0.1", port=port, sender="sw@example.org")
            assert deliver_pending(registry, smtp=smtp, policy=FAST)["delivered"] == 1
    finally:
        controller.stop()
    assert len(received) == 1
    message = received[0]
    assert message["To"] == "duty@example.org"
    from email.header import decode_header, make_header

    subject = " ".join(str(make_header(decode_header(message["Subject"]))).split())
    assert subject == "[slidewatch] chosica: new landslide of 2500 m² on 2023-03-06"
    parts = {p.get_content_type(): p for p in message.walk()}
    assert json.loads(parts["application/json"].get_payload(decode=True)) == PAYLOAD
    assert "S2A_X" in parts["text/plain"].get_payload(decode=True).decode()
