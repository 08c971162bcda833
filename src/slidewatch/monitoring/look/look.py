"""One look at one AOI: search → (skip with the reason) → one run per acquisition newer than
the last processed one, oldest first (:mod:`.run`: fetch → detect → change → archive →
record).

Any error fails that run with the reason and ends the look at this AOI (the next look
retries after the schedule's backoff); other AOIs are not affected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from slidewatch.monitoring import imagery
from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.look.context import BUSY, LookContext, MonitorConfig, Outcome
from slidewatch.monitoring.look.run import run_claimed
from slidewatch.monitoring.look.schedule import NOTHING_NEW, due
from slidewatch.monitoring.registry import Registry, queries, runs


def _search_window(look: LookContext) -> tuple[date, date]:
    """From the day after the last processed acquisition (or ``lookback_days`` back) to now."""
    last = queries.last_processed_date(look.registry, look.aoi.id)
    start = (
        date.fromisoformat(last) + timedelta(days=1)
        if last
        else (look.now - timedelta(days=look.aoi.lookback_days)).date()
    )
    return start, look.now.date()


def _record_outcome(look: LookContext, key: str, state: RunState, reason: str) -> Outcome:
    """A run without an acquisition (search failed, nothing new), keyed by the hour."""
    aoi = look.aoi
    claimed = runs.claim(look.registry, aoi.id, key, look.now, model_hash=aoi.model_hash)
    if claimed.run_id is None:
        return Outcome(aoi.name, BUSY if claimed.busy else state, None, None, reason)
    runs.end(look.registry, claimed.run_id, state, reason)
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
    aoi = queries.watched_aoi(registry, name)
    if not runs.lock_aoi(registry, aoi.id):
        return [Outcome(name, BUSY, reason="another process is looking at it")]
    try:
        # due again under the lock: a look that just finished elsewhere makes it not due
        if force or due(aoi.active, aoi.cadence_days, runs.looks(registry, aoi.id), now).due:
            look = LookContext(registry, config, aoi, now)
            return look_through(
                look,
                first=lambda found, search_s: run_acquisition(look, found, search_s),
                without=lambda state, reason, key: _record_outcome(look, key, state, reason),
            )
        return []
    finally:
        runs.unlock_aoi(registry, aoi.id)


def look_through(
    look: LookContext,
    first: Callable[[imagery.Found, float], Outcome],
    without: Callable[[RunState, str, str], Outcome],
) -> list[Outcome]:
    """Search the AOI's window; the first new acquisition by ``first(found, search_s)``, the
    later ones as claimed runs, stopping at a failed or busy one (later acquisitions need it
    as their baseline). A failed search or nothing new: ``without(state, reason, key)``, the
    key naming the hour (for a run row of its own)."""
    hour = look.now.strftime("%Y-%m-%dT%H")
    try:
        t = time.perf_counter()
        start, end = _search_window(look)
        found = imagery.search(look.aoi.source, look.aoi.geometry, start, end)
        search_s = (time.perf_counter() - t) / max(1, len(found))  # shared by its runs
    except Exception as exc:
        reason = f"search failed: {type(exc).__name__}: {exc}"
        return [without(RunState.FAILED, reason, f"search:{hour}")]
    if not found:
        reason = f"{NOTHING_NEW} between {start} and {end}"
        return [without(RunState.SKIPPED, reason, f"none:{hour}")]
    outcomes = [first(found[0], search_s)]
    for acquisition in found[1:]:
        if outcomes[-1].state in (RunState.FAILED, BUSY):
            break
        outcomes.append(run_acquisition(look, acquisition, search_s))
    return outcomes


def run_acquisition(look: LookContext, found: imagery.Found, search_s: float = 0.0) -> Outcome:
    """Claim the run of ``found`` and work on it, unless another look has it or had it."""
    t0 = time.perf_counter()
    fields = {"acquisition_date": found.date, "scenes": found.scenes,
              "model_hash": look.aoi.model_hash}  # fmt: skip
    claimed = runs.claim(look.registry, look.aoi.id, found.key, look.now, **fields)
    if claimed.run_id is None:
        state = BUSY if claimed.busy else RunState.DONE
        return Outcome(look.aoi.name, state, None, found.date, "handled by another look")
    return run_claimed(look.for_run(found, claimed.run_id, t0 - search_s, search_s))
