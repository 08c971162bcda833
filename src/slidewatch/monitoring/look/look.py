"""One look at one AOI: search → (skip with the reason) → fetch → detect → change → archive
→ record, each acquisition newer than the last processed one, oldest first.

Any error fails that run with the reason and ends the look at this AOI (the next look
retries after the schedule's backoff); other AOIs are not affected. Products are computed
in a work folder that a re-run clears first, so a run killed at any point and run again
gives the same products.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from slidewatch.monitoring import imagery
from slidewatch.monitoring.alerts.outbox import RetryPolicy, SmtpSettings
from slidewatch.monitoring.archive.storage import Archive
from slidewatch.monitoring.look.results import Results, compute_results, record_results
from slidewatch.monitoring.look.schedule import NOTHING_NEW, due
from slidewatch.monitoring.registry import runs
from slidewatch.monitoring.registry.database import Registry
from slidewatch.monitoring.registry.tables import Aoi, Run

DETECT_FILES = ("probability.tif", "landslides.tif", "landslides.geojson", "quicklook.png",
                "summary.json")  # fmt: skip


@dataclass(frozen=True)
class MonitorConfig:
    """Where a monitor keeps its state (``--db``, ``--storage``, ``--home``) and how it alerts."""

    db_url: str
    storage: str
    work_dir: str
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Outcome:
    """What one run of a look ended as (printed by ``run-once``)."""

    aoi: str
    state: str
    """``done``, ``skipped``, ``failed``, or ``busy`` (another process has it)."""
    run_id: int | None = None
    acquisition_date: str | None = None
    reason: str | None = None
    alerts: int = 0
    landslides: int = 0


def _search_window(registry: Registry, aoi: Aoi, now: datetime) -> tuple[date, date]:
    with registry.session() as s:
        last = s.scalar(
            select(Run.acquisition_date)
            .where(Run.aoi_id == aoi.id, Run.state.in_(("done", "skipped")),
                   Run.acquisition_date.is_not(None))
            .order_by(Run.acquisition_date.desc())
            .limit(1)
        )  # fmt: skip
    start = (
        date.fromisoformat(last) + timedelta(days=1)
        if last
        else (now - timedelta(days=aoi.lookback_days)).date()
    )
    return start, now.date()


def _record_outcome(
    registry: Registry, aoi: Aoi, key: str, now: datetime, state: str, reason: str
) -> Outcome:
    """A run without an acquisition (search failed, nothing new), keyed by the hour."""
    claimed = runs.claim(registry, aoi.id, key, now, model_hash=aoi.model_hash)
    if claimed.run_id is None:
        return Outcome(aoi.name, "busy" if claimed.busy else state, None, None, reason)
    runs.end(registry, claimed.run_id, state, reason)
    return Outcome(aoi.name, state, claimed.run_id, None, reason)


def look_at(
    config: MonitorConfig, name: str, now: datetime, force: bool = True,
    registry: Registry | None = None,
) -> list[Outcome]:  # fmt: skip
    """Look at AOI ``name`` as of ``now`` (with ``force=False``: only if it is still due, as
    ``run-once`` asks); never raises for a problem of this AOI. One look per AOI at a time:
    a look already under way elsewhere gives a ``busy`` outcome. ``registry``: one already
    open on ``config.db_url`` (opening SQLite afresh per look cost ~15 ms: the first commit
    recreates the WAL file and the last close checkpoints it)."""
    if registry is None:
        with Registry(config.db_url) as opened:
            return look_at(config, name, now, force, opened)
    aoi = registry.get_aoi(name)
    if not runs.lock_aoi(registry, aoi.id):
        return [Outcome(name, "busy", reason="another process is looking at it")]
    try:
        # due again under the lock: a look that just finished elsewhere makes it not due
        if force or due(aoi.active, aoi.cadence_days, runs.looks(registry, aoi.id), now).due:
            return _look(registry, config, aoi, now)
        return []
    finally:
        runs.unlock_aoi(registry, aoi.id)


def _look(registry: Registry, config: MonitorConfig, aoi: Aoi, now: datetime) -> list[Outcome]:
    """Search, then one run per new acquisition, oldest first."""
    return look_through(
        registry, config, aoi, now,
        first=lambda found, search_s: _process(registry, config, aoi, found, now, search_s),
        without=lambda state, reason, key: _record_outcome(registry, aoi, key, now, state, reason),
    )  # fmt: skip


def look_through(
    registry: Registry, config: MonitorConfig, aoi: Aoi, now: datetime,
    first: Callable[[imagery.Found, float], Outcome],
    without: Callable[[str, str, str], Outcome],
) -> list[Outcome]:  # fmt: skip
    """Search the AOI's window; the first new acquisition by ``first(found, search_s)``, the
    later ones as claimed runs, stopping at a failed or busy one (later acquisitions need it
    as their baseline). A failed search or nothing new: ``without(state, reason, key)``, the
    key naming the hour (for a run row of its own)."""
    hour = now.strftime("%Y-%m-%dT%H")
    try:
        t = time.perf_counter()
        start, end = _search_window(registry, aoi, now)
        found = imagery.search(aoi.source, aoi.geometry, start, end)
        search_s = (time.perf_counter() - t) / max(1, len(found))  # shared by its runs
    except Exception as exc:
        reason = f"search failed: {type(exc).__name__}: {exc}"
        return [without("failed", reason, f"search:{hour}")]
    if not found:
        return [without("skipped", f"{NOTHING_NEW} between {start} and {end}", f"none:{hour}")]
    outcomes = [first(found[0], search_s)]
    for acquisition in found[1:]:
        if outcomes[-1].state in ("failed", "busy"):
            break
        outcomes.append(_process(registry, config, aoi, acquisition, now, search_s))
    return outcomes


def _process(
    registry: Registry, config: MonitorConfig, aoi: Aoi, found: imagery.Found, now: datetime,
    search_s: float = 0.0,
) -> Outcome:  # fmt: skip
    t0 = time.perf_counter()
    fields = {"acquisition_date": found.date, "scenes": found.scenes,
              "model_hash": aoi.model_hash}  # fmt: skip
    claimed = runs.claim(registry, aoi.id, found.key, now, **fields)
    if claimed.run_id is None:
        state = "busy" if claimed.busy else "done"
        return Outcome(aoi.name, state, None, found.date, "handled by another look")
    return run_claimed(registry, config, aoi, found, claimed.run_id, t0, search_s)


def run_claimed(
    registry: Registry, config: MonitorConfig, aoi: Aoi, found: imagery.Found, run_id: int,
    t0: float, search_s: float = 0.0,
) -> Outcome:  # fmt: skip
    """Work on run ``run_id``, which this process has claimed for ``found``: fetch, detect,
    change, archive, record; a failure fails the run with the reason. ``t0``: when the run
    began (``time.perf_counter()``). Also what a queued run (``monitoring.queued``) calls."""
    work = Path(config.work_dir) / aoi.name / found.date
    shutil.rmtree(work, ignore_errors=True)  # what a killed run left
    work.mkdir(parents=True)
    try:
        with runs.heartbeat(registry, run_id, aoi.id):
            return _produce(registry, config, aoi, found, run_id, work, t0 - search_s, search_s)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        detail = "".join(traceback.format_exception_only(exc)).strip()
        runs.end(registry, run_id, "failed", reason, stats={"error": detail})
        return Outcome(aoi.name, "failed", run_id, found.date, reason)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_model(aoi: Aoi) -> None:
    from slidewatch.errors import ModelError

    if imagery.model_hash(aoi.model_path) != aoi.model_hash:
        raise ModelError(
            f"{aoi.model_path}: the model changed since AOI {aoi.name!r} was registered; "
            "register the AOI again (monitor remove + add) to use the new model"
        )


def _produce(
    registry: Registry, config: MonitorConfig, aoi: Aoi, found: imagery.Found, run_id: int,
    work: Path, t0: float, search_s: float = 0.0,
) -> Outcome:  # fmt: skip
    """Fetch, detect, change, archive, record; ``t0``: when the run began (with its share of
    the search), so that ``overhead_s`` is everything outside fetch and detect."""
    _check_model(aoi)
    stage(aoi.name, found.date, "fetch")
    stack = work / "stack.tif"
    t = time.perf_counter()
    fetched = imagery.fetch(aoi.source, aoi.geometry, found, stack)
    timings = {"fetch_s": time.perf_counter() - t}
    cloud = imagery.cloud_pct(fetched)
    if cloud > aoi.max_cloud_pct:
        reason = f"too cloudy: {cloud:.1f}% of the AOI under cloud (limit {aoi.max_cloud_pct:g}%)"
        runs.end(registry, run_id, "skipped", reason, cloud_pct=cloud, timings=timings)
        return Outcome(aoi.name, "skipped", run_id, found.date, reason)
    stage(aoi.name, found.date, "detect")
    t = time.perf_counter()
    imagery.detect(stack, aoi.model_path, work / "detect")
    timings["detect_s"] = time.perf_counter() - t
    stage(aoi.name, found.date, "change")
    t = time.perf_counter()
    archive = Archive(config.storage)
    results = compute_results(registry, archive, aoi, found, run_id, work, cloud)
    files = {n: work / "detect" / n for n in DETECT_FILES} | results.files
    timings["change_s"], t = time.perf_counter() - t, time.perf_counter()
    stage(aoi.name, found.date, "store")
    products = archive.store_run(aoi.name, found.date, files, results.stac_item, move=True)
    timings["store_s"], t = time.perf_counter() - t, time.perf_counter()
    alerts = record_results(registry, aoi, run_id, found, results, products, cloud, timings)
    timings["record_s"], timings["search_s"] = time.perf_counter() - t, search_s
    timings["total_s"] = time.perf_counter() - t0
    timings["overhead_s"] = timings["total_s"] - timings["fetch_s"] - timings["detect_s"]
    runs.set_timings(registry, run_id, timings)  # the recording included
    return Outcome(aoi.name, "done", run_id, found.date, None, alerts, len(results.current))


def stage(aoi: str, day: str, what: str) -> None:
    """One progress line per stage (what an operator's log shows; tests wait for them)."""
    print(json.dumps({"aoi": aoi, "date": day, "stage": what}), flush=True)


__all__ = ["MonitorConfig", "Outcome", "Results", "look_at"]
