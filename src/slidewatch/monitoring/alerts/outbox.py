"""The outbox: one row per alert and target until delivered or given up (the delivery policy).

A run queues its alert events and their deliveries (one row per channel target) in the
transaction that marks it done, so a crash loses nothing and a re-run queues nothing twice.
:func:`deliver_pending` then sends what is due — by whoever ran the look: ``run-once``,
the scheduler, a run started from the API — within a time budget:

- a pass spends at most ``budget_s`` on receivers, and ``target_budget_s`` on any one target;
  every request's connect and read timeouts are clamped to what is left;
- a few fast retries in the pass (``inline_attempts``, waits up to ``inline_max_wait_s``),
  then the rest is left to later passes with exponential backoff (``next_attempt_at``);
- a circuit breaker per target (per process): after ``breaker_failures`` failures in a
  row a target is skipped for ``breaker_open_s``, without spending attempts;
- a redirect or any status but 2xx is a failed attempt; its status is kept (``last_status``)
  with the error text (``last_error``), which ``monitor history`` and the API show.

A run's events for one target travel one by one, or as one digest (the AOI's grouping:
``auto`` sends a digest above ``DIGEST_ABOVE``). A delivery is claimed by moving its next
attempt forward in one conditional UPDATE, so two processes never send the same row at
once. A receiver may still see a payload twice if a process dies between sending and
recording; the ``webhook-id`` (and ``Idempotency-Key``) header — the event's UUID, or the
digest's UUID 5 of its events — lets it drop the copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from slidewatch.monitoring.alerts.channels import (
    DeliveryError,
    SmtpSettings,
    body_of,
    http_client,
    post_webhook,
    send_email,
    signature_headers,
)
from slidewatch.monitoring.alerts.payload import digest
from slidewatch.monitoring.alerts.targets import TargetRules
from slidewatch.monitoring.kinds import DIGEST_ABOVE, DeliveryState, Grouping
from slidewatch.monitoring.registry.tables import Alert, Aoi, Delivery, utcnow


@dataclass(frozen=True)
class RetryPolicy:
    """How deliveries are tried, retried and bounded in time."""

    max_attempts: int = 10
    """After this many failed attempts a delivery is given up (state ``failed``)."""
    base_s: float = 0.5
    """Wait before the second attempt; doubled after each failure (capped at ``max_wait_s``)."""
    max_wait_s: float = 6 * 3600.0
    inline_attempts: int = 3
    """Attempts within one pass before leaving the row to a later one."""
    inline_max_wait_s: float = 1.0
    """Longest wait between attempts inside one pass."""
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 3.0
    budget_s: float = 6.0
    """A pass's total time spent on receivers."""
    target_budget_s: float = 4.0
    """A pass's time spent on one target."""
    breaker_failures: int = 3
    """Failures in a row that open a target's circuit."""
    breaker_open_s: float = 300.0
    """How long an open circuit skips its target (in this process)."""

    def wait_s(self, attempts: int) -> float:
        return float(min(self.max_wait_s, self.base_s * 2 ** max(0, attempts - 1)))


@dataclass
class Breakers:
    """A circuit breaker per target, for a process's life (the scheduler's many passes)."""

    failures: dict[str, int] = field(default_factory=dict)
    open_until: dict[str, float] = field(default_factory=dict)

    def is_open(self, key: str, now: float) -> bool:
        return self.open_until.get(key, 0.0) > now

    def record(self, key: str, ok: bool, now: float, policy: RetryPolicy) -> None:
        if ok:
            self.failures.pop(key, None)
            self.open_until.pop(key, None)
            return
        self.failures[key] = self.failures.get(key, 0) + 1
        if self.failures[key] >= policy.breaker_failures:
            self.open_until[key] = now + policy.breaker_open_s


PROCESS_BREAKERS = Breakers()


@dataclass
class Budget:
    """Time left for receivers in one pass, in total and per target."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    spent: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self, key: str) -> float:
        total = self.policy.budget_s - (self.clock() - self.started)
        return min(total, self.policy.target_budget_s - self.spent.get(key, 0.0))

    def spend(self, key: str, seconds: float) -> None:
        self.spent[key] = self.spent.get(key, 0.0) + seconds


@dataclass(frozen=True)
class Batch:
    """Deliveries sent in one request: one event, or a run's digest for one target."""

    ids: tuple[int, ...]
    channel: str
    target: str
    secret: str | None
    as_digest: bool


Sender = Callable[[Batch, dict[str, Any], float], int | None]


def _senders(
    smtp: SmtpSettings, policy: RetryPolicy, client: Any, targets: TargetRules
) -> dict[str, Sender]:
    def webhook(batch: Batch, envelope: dict[str, Any], left: float) -> int | None:
        body, key = body_of(envelope), envelope["id"]
        headers = {"Idempotency-Key": key, "webhook-id": key}
        if batch.secret:
            headers |= signature_headers(batch.secret, key, int(time.time()), body)
        connect, read = min(policy.connect_timeout_s, left), min(policy.read_timeout_s, left)
        return post_webhook(batch.target, body, headers, connect, read, targets, client)

    def email(batch: Batch, envelope: dict[str, Any], left: float) -> int | None:
        limit = min(policy.connect_timeout_s + policy.read_timeout_s, left)
        send_email(batch.target, envelope, envelope["id"], smtp, limit)
        return None

    return {"webhook": webhook, "email": email}


def breaker_key(batch: Batch, smtp: SmtpSettings) -> str:
    """What fails together: a webhook URL, or the SMTP server every address goes through."""
    return f"smtp:{smtp.host}:{smtp.port}" if batch.channel == "email" else batch.target


def _claim(registry: Any, ids: tuple[int, ...], lease_s: float) -> tuple[int, ...]:
    now = utcnow()
    claimed = []
    with registry.session() as s:
        for delivery_id in ids:
            n = s.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.PENDING,
                       Delivery.next_attempt_at <= now)
                .values(next_attempt_at=now + timedelta(seconds=lease_s))
            ).rowcount  # fmt: skip
            if n == 1:
                claimed.append(delivery_id)
    return tuple(claimed)


def _record(
    registry: Any, ids: tuple[int, ...], error: DeliveryError | None, policy: RetryPolicy,
    status: int | None = None,
) -> tuple[list[DeliveryState], int]:  # fmt: skip
    """Record an attempt on every row; their states and the most attempts among them."""
    states, attempts = [], 0
    with registry.session() as s:
        for delivery_id in ids:
            row = s.get_one(Delivery, delivery_id)
            row.attempts += 1
            if error is None:
                row.state, row.delivered_at = DeliveryState.DELIVERED, utcnow()
                row.last_error, row.last_status = None, status
            else:
                row.last_error, row.last_status = str(error)[:2000], error.status
                row.next_attempt_at = utcnow() + timedelta(seconds=policy.wait_s(row.attempts))
                if row.attempts >= policy.max_attempts:
                    row.state = DeliveryState.FAILED
            states.append(row.state)
            attempts = max(attempts, row.attempts)
    return states, attempts


def _envelope(registry: Any, batch: Batch) -> dict[str, Any]:
    with registry.session() as s:
        payloads = s.scalars(
            select(Alert.payload).join(Delivery, Delivery.alert_id == Alert.id)
            .where(Delivery.id.in_(batch.ids)).order_by(Alert.id)
        ).all()  # fmt: skip
    return digest(list(payloads)) if batch.as_digest else payloads[0]


@dataclass
class Pass:
    """One pass through the outbox: its senders, budget and breakers."""

    registry: Any
    send: dict[str, Sender]
    policy: RetryPolicy
    smtp: SmtpSettings
    budget: Budget
    breakers: Breakers
    sleep: Callable[[float], None]

    def deliver(self, batch: Batch) -> list[DeliveryState]:
        """Up to ``inline_attempts`` attempts within the budget; the states of its rows."""
        key, policy = breaker_key(batch, self.smtp), self.policy
        states = [DeliveryState.PENDING] * len(batch.ids)
        lease_s = policy.connect_timeout_s + policy.read_timeout_s + 60
        for _ in range(policy.inline_attempts):
            left = self.budget.left(key)
            if left <= 0 or self.breakers.is_open(key, self.budget.clock()):
                return states
            ids = _claim(self.registry, batch.ids, lease_s)
            if not ids:
                return states
            batch = Batch(ids, batch.channel, batch.target, batch.secret, batch.as_digest)
            t = self.budget.clock()
            status = None
            try:
                status = self.send[batch.channel](batch, _envelope(self.registry, batch), left)
                error = None
            except DeliveryError as exc:
                error = exc
            now = self.budget.clock()
            self.budget.spend(key, now - t)
            self.breakers.record(key, error is None, now, policy)
            states, attempts = _record(self.registry, ids, error, policy, status)
            wait = policy.wait_s(attempts)
            if error is None or DeliveryState.FAILED in states:
                return states
            if wait > policy.inline_max_wait_s or wait >= self.budget.left(key):
                return states
            self.sleep(wait)
            with self.registry.session() as s:  # due now: the wait was done here
                s.execute(update(Delivery).where(Delivery.id.in_(ids))
                          .values(next_attempt_at=utcnow()))  # fmt: skip
        return states


def due_batches(registry: Any) -> list[Batch]:
    """The due pending deliveries, grouped by run, channel and target as the AOI says."""
    with registry.session() as s:
        rows = s.execute(
            select(Delivery.id, Delivery.channel, Delivery.target, Alert.run_id,
                   Aoi.alert_grouping, Aoi.webhook_secret)
            .join(Alert, Alert.id == Delivery.alert_id).join(Aoi, Aoi.id == Alert.aoi_id)
            .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.id)
        ).all()  # fmt: skip
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.run_id, row.channel, row.target), []).append(row)
    batches = []
    for (_, channel, target), members in groups.items():
        grouping, secret = Grouping(members[0].alert_grouping), members[0].webhook_secret
        together = grouping == Grouping.DIGEST or (
            grouping == Grouping.AUTO and len(members) > DIGEST_ABOVE
        )
        ids = [tuple(m.id for m in members)] if together else [(m.id,) for m in members]
        batches += [Batch(i, channel, target, secret, together) for i in ids]
    return batches


def deliver_pending(
    registry: Any,
    smtp: SmtpSettings | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    breakers: Breakers | None = None,
    clock: Callable[[], float] = time.monotonic,
    targets: TargetRules | None = None,
) -> dict[str, int]:
    """Send every due pending delivery within the policy's budget; return counts of the
    due deliveries by resulting state (those left for later passes count as pending).
    ``targets``: which webhook addresses may be reached (default: public ones only),
    checked again after DNS resolution at every attempt."""
    policy, smtp = policy or RetryPolicy(), smtp or SmtpSettings()
    counts: dict[str, int] = dict.fromkeys(
        (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.FAILED), 0
    )
    batches = due_batches(registry)
    if not batches:
        return counts
    with http_client() as client:
        senders = _senders(smtp, policy, client, targets or TargetRules())
        work = Pass(registry, senders, policy, smtp,
                    Budget(policy, clock), PROCESS_BREAKERS if breakers is None else breakers,
                    sleep)  # fmt: skip
        for batch in batches:
            for state in work.deliver(batch):
                counts[state] += 1
    return counts
