"""Runs of a home's AOIs, as every edge starts them: ``monitor run-once`` and the server's
scheduler look at what is due (:func:`run_due`); ``POST /aois/{name}/runs`` queues a run
(:func:`queue_run`) that a job then runs (:func:`run_queued`). Each delivers the alerts
its looks raised (:func:`deliver`), within the outbox's time budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from slidewatch.application.settings import HomeSettings
from slidewatch.monitoring.look import Outcome
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Run


@dataclass(frozen=True)
class RunRequest:
    """Which AOIs to look at, as of when, where."""

    names: tuple[str, ...] = ()
    """Only these AOIs; empty: every active one."""
    now: datetime | None = None
    """Look as of this time (UTC); None: the current time."""
    workers: int | None = None
    """Spread the looks over a local Dask cluster of this many worker processes."""
    dask_address: str | None = None
    """Spread the looks over the Dask scheduler at this address."""


@dataclass(frozen=True)
class RunReport:
    """What a look at the due AOIs did."""

    outcomes: tuple[Outcome, ...]
    """One per run (``done``, ``skipped``, ``failed``, ``busy``)."""
    deliveries: Mapping[str, int]
    """Alert deliveries by state after the outbox was worked through."""

    @property
    def failed(self) -> bool:
        """Whether a run failed (the others still ran)."""
        return any(o.state == "failed" for o in self.outcomes)


def run_due(settings: HomeSettings, request: RunRequest = RunRequest()) -> RunReport:
    """Look at every due AOI of the home, then deliver pending alerts."""
    from slidewatch.monitoring.look.cycle import run_once

    outcomes, deliveries = run_once(
        settings.monitor_config(), list(request.names) or None, request.now,
        request.workers, request.dask_address,
    )  # fmt: skip
    return RunReport(tuple(outcomes), deliveries)


def queue_run(registry: Registry, name: str) -> Run:
    """A ``queued`` run of AOI ``name`` now (its acquisition is filled in when found)."""
    from slidewatch.monitoring.look.queue import queue_run as insert_queued

    return insert_queued(registry, name)


def run_queued(settings: HomeSettings, run_id: int, now: datetime | None = None) -> list[Outcome]:
    """Run the queued run ``run_id`` (a look at its AOI, forced), then deliver the pending
    alerts within the outbox's time budget, as ``run-once`` does: whoever runs a look
    delivers its alerts, no shell needed. Safe to run again."""
    from slidewatch.monitoring.look.queue import run_queued as look_queued

    config = settings.monitor_config()
    outcomes = look_queued(config, run_id, now)
    deliver(settings)
    return outcomes


def deliver(settings: HomeSettings) -> Mapping[str, int]:
    """Send the home's due alert deliveries (a few seconds at most: the outbox's budget);
    counts by resulting state."""
    from slidewatch.monitoring.alerts import deliver_pending

    config = settings.monitor_config()
    with Registry(config.db_url) as registry:
        return deliver_pending(registry, config.smtp, config.retry, targets=config.targets)


def cancel_queued(registry: Registry, run_id: int, reason: str) -> bool:
    """End run ``run_id`` with ``reason`` if no look has taken it yet; whether it was."""
    from slidewatch.monitoring.look.queue import cancel_queued as cancel

    return cancel(registry, run_id, reason)
