"""``run-once``: look at every due AOI, then deliver what the outbox holds.

cron or a systemd timer calls it every few minutes; it does nothing when nothing is due.
Looks run one after the other in this process, or spread over a Dask cluster
(``workers=N`` starts a LocalCluster, ``dask_address`` joins a running one): each task
opens the registry from its URL, so the database stays the single source of truth and any
number of ``run-once`` processes and workers may run at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from slidewatch.errors import ConfigError
from slidewatch.monitoring.alerts import deliver_pending
from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.look.context import MonitorConfig, Outcome
from slidewatch.monitoring.look.look import look_at
from slidewatch.monitoring.look.schedule import due
from slidewatch.monitoring.registry import Registry, runs
from slidewatch.monitoring.registry.tables import utcnow


def due_aois(registry: Registry, now: datetime, names: Sequence[str] | None = None) -> list[str]:
    """Names of the AOIs due at ``now`` (all active ones, or those of ``names``)."""
    aois = [registry.get_aoi(n) for n in names] if names else registry.list_aois(active=True)
    return [
        a.name for a in aois if due(a.active, a.cadence_days, runs.looks(registry, a.id), now).due
    ]


def _look_safely(
    config: MonitorConfig, name: str, now: datetime, registry: Registry
) -> list[Outcome]:
    """A look that turns even an unexpected error into a failed outcome (never stops others)."""
    try:
        return look_at(config, name, now, force=False, registry=registry)
    except Exception as exc:
        return [Outcome(name, RunState.FAILED, reason=f"{type(exc).__name__}: {exc}")]


@functools.cache
def _worker_registry(url: str) -> Registry:
    """One registry per worker process and URL, kept for the process's life: a task opening
    its own would pay the connection, WAL and checkpoint costs of SQLite at every look."""
    return Registry(url)


def _look_on_worker(config: MonitorConfig, name: str, now: datetime) -> list[Outcome]:
    """On a Dask worker: the fetch's own dask graphs run on this worker's threads, not as
    tasks sent back to the cluster (which would wait behind the looks themselves)."""
    import dask

    from slidewatch.inference.engine import use_engine_table

    with dask.config.set(scheduler="threads"):
        try:
            use_engine_table(config.engine_table)  # a worker is another process
            registry = _worker_registry(config.db_url)
        except Exception as exc:
            return [Outcome(name, RunState.FAILED, reason=f"{type(exc).__name__}: {exc}")]
        return _look_safely(config, name, now, registry)


def _looks_on_dask(
    config: MonitorConfig, names: list[str], now: datetime, workers: int | None, address: str | None
) -> list[Outcome]:
    from slidewatch.cluster import dask_client

    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers} must be at least 1")
    with dask_client(workers, address, pin_cores=True) as client:
        futures = client.map(_look_on_worker, [config] * len(names), names, [now] * len(names),
                             pure=False)  # fmt: skip
        results: list[list[Outcome]] = client.gather(futures)
    return [o for outcomes in results for o in outcomes]


def run_once(
    config: MonitorConfig,
    names: Sequence[str] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
) -> tuple[list[Outcome], dict[str, int]]:
    """Look at the due AOIs as of ``now`` (default: the current time), then deliver pending
    alerts. Returns the outcomes of the looks and the delivery counts."""
    now = now or utcnow()
    with Registry(config.db_url) as registry:
        names_due = due_aois(registry, now, names)
        if workers is not None or dask_address:
            outcomes = _looks_on_dask(config, names_due, now, workers, dask_address)
        else:
            outcomes = [o for n in names_due for o in _look_safely(config, n, now, registry)]
        deliveries = deliver_pending(registry, config.smtp, config.retry, targets=config.targets)
    return outcomes, deliveries
