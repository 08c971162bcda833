"""The outbox: one row per alert and target until delivered or given up (the delivery policy).

A run queues its alerts and their deliveries (one row per channel target) in the same
transaction that marks it done, so a crash loses nothing and a re-run queues nothing twice
(alerts are unique per landslide). :func:`deliver_pending` then sends what is due through
its channel (:mod:`.channels`: webhook, e-mail), retried with exponential backoff. A
delivery is claimed by moving its next attempt forward in one conditional UPDATE, so two
processes never send the same row at once. A receiver may still see a payload twice if a
process dies between sending and recording; the ``Idempotency-Key`` header lets it drop
the copy.
"""

from __future__ import annotations

import smtplib
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from slidewatch.monitoring.alerts.channels import SmtpSettings, post_webhook, send_email
from slidewatch.monitoring.alerts.targets import TargetRules
from slidewatch.monitoring.kinds import DeliveryState
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


Sender = Callable[[Delivery, dict[str, Any], str], None]


def _senders(smtp: SmtpSettings, policy: RetryPolicy, targets: TargetRules) -> dict[str, Sender]:
    return {
        "webhook": lambda d, p, k: post_webhook(d.target, p, k, policy.timeout_s, targets),
        "email": lambda d, p, k: send_email(d.target, p, k, smtp, policy.timeout_s),
    }


def _claim(registry: Any, delivery_id: int, lease_s: float) -> Delivery | None:
    now = utcnow()
    with registry.session() as s:
        claimed = s.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.PENDING,
                   Delivery.next_attempt_at <= now)
            .values(next_attempt_at=now + timedelta(seconds=lease_s))
        ).rowcount  # fmt: skip
        if claimed != 1:
            return None
        return s.get(Delivery, delivery_id)


def _record(
    registry: Any, delivery_id: int, error: str | None, policy: RetryPolicy
) -> DeliveryState:
    with registry.session() as s:
        row = s.get_one(Delivery, delivery_id)
        row.attempts += 1
        if error is None:
            row.state, row.delivered_at, row.last_error = DeliveryState.DELIVERED, utcnow(), None
        else:
            row.last_error = error[:2000]
            row.next_attempt_at = utcnow() + timedelta(seconds=policy.wait_s(row.attempts))
            if row.attempts >= policy.max_attempts:
                row.state = DeliveryState.FAILED
        return row.state


def _deliver_one(registry: Any, delivery_id: int, send: dict[str, Sender],
                 policy: RetryPolicy, sleep: Callable[[float], None]) -> DeliveryState:  # fmt: skip
    state = DeliveryState.PENDING
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
        if state != DeliveryState.PENDING or wait > policy.inline_max_wait_s:
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
    targets: TargetRules | None = None,
) -> dict[str, int]:
    """Send every due pending delivery; return counts by resulting state. ``targets``:
    which webhook addresses may be reached (default: public ones only)."""
    policy = policy or RetryPolicy()
    send = _senders(smtp or SmtpSettings(), policy, targets or TargetRules())
    with registry.session() as s:
        ids = s.scalars(
            select(Delivery.id)
            .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.id)
        ).all()
    counts: dict[str, int] = dict.fromkeys(
        (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.FAILED), 0
    )
    for delivery_id in ids:
        counts[_deliver_one(registry, delivery_id, send, policy, sleep)] += 1
    return counts
