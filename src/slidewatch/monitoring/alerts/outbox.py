"""Alerts: one per landslide, ever, delivered through an outbox.

A run queues its alerts and their deliveries (one row per channel target) in the same
transaction that marks it done, so a crash loses nothing and a re-run queues nothing twice
(alerts are unique per landslide). :func:`deliver_pending` then sends what is due: webhooks
(HTTP POST of the JSON payload, retried with exponential backoff) and e-mail (SMTP). A
delivery is claimed by moving its next attempt forward in one conditional UPDATE, so two
processes never send the same row at once. A receiver may still see a payload twice if a
process dies between sending and recording; the ``Idempotency-Key`` header lets it drop
the copy.
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select, update

from slidewatch.monitoring.registry.tables import Alert, Delivery, utcnow


@dataclass(frozen=True)
class RetryPolicy:
    """How deliveries are retried."""

    max_attempts: int = 10
    """After this many failed attempts a delivery is given up (state ``failed``)."""
    base_s: float = 1.0
    """Wait before the second attempt; doubled after each failure."""
    max_wait_s: float = 3600.0
    inline_attempts: int = 4
    """Attempts made within one ``run-once`` before leaving the row for the next one."""
    inline_max_wait_s: float = 10.0
    """Longest wait inside one ``run-once``."""
    timeout_s: float = 10.0

    def wait_s(self, attempts: int) -> float:
        return float(min(self.max_wait_s, self.base_s * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes (``run-once --smtp-host``, env ``SLIDEWATCH_SMTP_*``)."""

    host: str = "localhost"
    port: int = 25
    sender: str = "slidewatch@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False


def post_webhook(url: str, payload: dict[str, Any], key: str, timeout_s: float) -> None:
    """POST ``payload`` as JSON; any answer but 2xx raises."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key,
                 "User-Agent": "slidewatch-monitor"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        if not 200 <= answer.status < 300:
            raise OSError(f"HTTP {answer.status}")


def send_email(
    address: str, payload: dict[str, Any], key: str, smtp: SmtpSettings, timeout_s: float
) -> None:
    """Send the alert as a short text e-mail with the JSON payload attached."""
    message = EmailMessage()
    message["Subject"] = email_subject(payload)
    message["From"], message["To"], message["Message-ID"] = smtp.sender, address, f"<{key}>"
    message.set_content(email_body(payload))
    message.add_attachment(
        json.dumps(payload, indent=1).encode(), maintype="application", subtype="json",
        filename="alert.json",
    )  # fmt: skip
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        server.send_message(message)


def email_subject(payload: dict[str, Any]) -> str:
    ls = payload["landslide"]
    return (
        f"[slidewatch] {payload['aoi']['name']}: {ls['kind']} landslide of "
        f"{ls['changed_area_m2']:.0f} m² on {payload['acquisition']['date']}"
    )


def email_body(payload: dict[str, Any]) -> str:
    ls, acq = payload["landslide"], payload["acquisition"]
    lines = [
        email_subject(payload).removeprefix("[slidewatch] "),
        f"Landslide {ls['id']}: area {ls['area_m2']:.0f} m², mean probability "
        f"{ls['mean_probability']:.2f}, centre {ls['centroid_lonlat']}",
        f"Scenes: {', '.join(acq['scene_ids'])} (cloud over the AOI: {acq['cloud_pct']}%)",
        f"Model: {payload['model']['path']} (sha256 {payload['model']['hash'][:12]}…)",
        "Products:",
        *(f"  {name}: {url}" for name, url in payload["products"].items()),
    ]
    return "\n".join(lines) + "\n"


Sender = Callable[[Delivery, dict[str, Any], str], None]


def _senders(smtp: SmtpSettings, policy: RetryPolicy) -> dict[str, Sender]:
    return {
        "webhook": lambda d, p, k: post_webhook(d.target, p, k, policy.timeout_s),
        "email": lambda d, p, k: send_email(d.target, p, k, smtp, policy.timeout_s),
    }


def _claim(registry: Any, delivery_id: int, lease_s: float) -> Delivery | None:
    now = utcnow()
    with registry.session() as s:
        claimed = s.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == "pending",
                   Delivery.next_attempt_at <= now)
            .values(next_attempt_at=now + timedelta(seconds=lease_s))
        ).rowcount  # fmt: skip
        if claimed != 1:
            return None
        return s.get(Delivery, delivery_id)


def _record(registry: Any, delivery_id: int, error: str | None, policy: RetryPolicy) -> str:
    with registry.session() as s:
        row = s.get_one(Delivery, delivery_id)
        row.attempts += 1
        if error is None:
            row.state, row.delivered_at, row.last_error = "delivered", utcnow(), None
        else:
            row.last_error = error[:2000]
            row.next_attempt_at = utcnow() + timedelta(seconds=policy.wait_s(row.attempts))
            if row.attempts >= policy.max_attempts:
                row.state = "failed"
        return row.state


def _deliver_one(registry: Any, delivery_id: int, send: dict[str, Sender],
                 policy: RetryPolicy, sleep: Callable[[float], None]) -> str:  # fmt: skip
    state = "pending"
    for _ in range(policy.inline_attempts):
        row = _claim(registry, delivery_id, lease_s=policy.timeout_s * 3 + 60)
        if row is None:
            return state
        with registry.session() as s:
            payload = s.get_one(Alert, row.alert_id).payload
        try:
            send[row.channel](row, payload, f"slidewatch-alert-{row.alert_id}")
            error = None
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        state = _record(registry, delivery_id, error, policy)
        wait = policy.wait_s(row.attempts + 1)
        if state != "pending" or wait > policy.inline_max_wait_s:
            return state
        sleep(wait)
        with registry.session() as s:  # due now: the wait was done here
            s.execute(update(Delivery).where(Delivery.id == delivery_id)
                      .values(next_attempt_at=utcnow()))  # fmt: skip
    return state


def deliver_pending(
    registry: Any,
    smtp: SmtpSettings | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Send every due pending delivery; return counts by resulting state."""
    policy = policy or RetryPolicy()
    send = _senders(smtp or SmtpSettings(), policy)
    with registry.session() as s:
        ids = s.scalars(
            select(Delivery.id)
            .where(Delivery.state == "pending", Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.id)
        ).all()
    counts = {"delivered": 0, "pending": 0, "failed": 0}
    for delivery_id in ids:
        counts[_deliver_one(registry, delivery_id, send, policy, sleep)] += 1
    return counts
