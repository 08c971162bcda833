"""Run now: a run row made ``queued`` when a client asks, taken by the look that runs it.

A run is keyed by (AOI, acquisition key), but when a client asks for a run nobody knows yet
which acquisition the search will find. So the request inserts a row of its own with a
placeholder key (``queued:<uuid>``) and state ``queued``; its id is the run's URL from the
start. The look that runs it (in a job's worker) takes the AOI's look lock, searches, and
renames the row to the first acquisition's key in one conditional UPDATE (``running``). The
unique key still decides: if that acquisition already has a run (another process made it),
the rename fails, the queued row ends ``skipped`` naming that run, and the look goes on as
any look would. Nothing new, or a failed search, ends the queued row itself (``skipped`` /
``failed`` with the reason), so a client always sees queued → running → done/skipped/failed.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from slidewatch.monitoring import imagery
from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.look.context import BUSY, LookContext, MonitorConfig, Outcome
from slidewatch.monitoring.look.look import look_at, look_through, run_acquisition
from slidewatch.monitoring.look.run import run_claimed
from slidewatch.monitoring.registry import Registry, queries, runs
from slidewatch.monitoring.registry.tables import Run, utcnow

QUEUED_PREFIX = "queued:"
BUSY_WAIT_S = 600.0
"""How long a queued run waits for another look at its AOI to end before it gives up."""


def queue_run(registry: Registry, name: str, now: datetime | None = None) -> Run:
    """Insert a ``queued`` run of AOI ``name`` (its acquisition is filled in when found)."""
    aoi = registry.get_aoi(name)
    with registry.session() as s:
        run = Run(aoi_id=aoi.id, acquisition_key=f"{QUEUED_PREFIX}{uuid.uuid4().hex}",
                  state=RunState.QUEUED, looked_at=now or utcnow(),
                  model_hash=aoi.model_hash)  # fmt: skip
        s.add(run)
        s.flush()
        run_id = run.id
    return registry.run(run_id)


def _take(look: LookContext, run_id: int, found: imagery.Found) -> str:
    """Rename the queued row to ``found``'s key, as ``running`` by this process: ``taken``,
    ``duplicate`` (that acquisition has its own run) or ``gone`` (no longer queued)."""
    values = {"acquisition_key": found.key, "acquisition_date": found.date,
              "scenes": found.scenes, "state": RunState.RUNNING, "owner": runs.owner_id(),
              "started_at": utcnow(), "heartbeat_at": utcnow(), "looked_at": look.now,
              "reason": None}  # fmt: skip
    try:
        with look.registry.session() as s:
            result = s.execute(
                update(Run).where(Run.id == run_id, Run.state == RunState.QUEUED).values(**values)
            )
            changed = getattr(result, "rowcount", 0)
    except IntegrityError:
        return "duplicate"
    return "taken" if changed == 1 else "gone"


def _end(look: LookContext, run_id: int, state: RunState, reason: str) -> Outcome:
    runs.end(look.registry, run_id, state, reason)
    return Outcome(look.aoi.name, state, run_id, None, reason)


def _first(look: LookContext, run_id: int, found: imagery.Found, search_s: float) -> Outcome:
    """The first acquisition: in the queued row when it is new, else by its own run."""
    t0 = time.perf_counter()
    taken = _take(look, run_id, found)
    if taken == "taken":
        return run_claimed(look.for_run(found, run_id, t0 - search_s, search_s))
    if taken == "gone":
        reason = "the queued run was taken elsewhere"
        return Outcome(look.aoi.name, BUSY, run_id, found.date, reason)
    other = queries.run_of_acquisition(look.registry, look.aoi.id, found.key)
    _end(look, run_id, RunState.SKIPPED, f"acquisition {found.date} is run {other} (/runs/{other})")
    return run_acquisition(look, found, search_s)


def _look_queued(look: LookContext, run_id: int) -> list[Outcome]:
    """Search, then the first new acquisition in the queued row, later ones as usual."""
    return look_through(
        look,
        first=lambda found, search_s: _first(look, run_id, found, search_s),
        without=lambda state, reason, _key: _end(look, run_id, state, reason),
    )


def _lock(registry: Registry, aoi_id: int, wait_s: float, poll_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while not runs.lock_aoi(registry, aoi_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


def run_queued(
    config: MonitorConfig, run_id: int, now: datetime | None = None,
    wait_s: float = BUSY_WAIT_S, poll_s: float = 2.0,
) -> list[Outcome]:  # fmt: skip
    """Run the queued run ``run_id`` now (a look at its AOI, forced). Run again after a crash:
    a row left ``running`` by a dead process is taken over by the look's usual claim, and a
    finished one is left alone, so running it twice never processes an acquisition twice."""
    now = now or utcnow()
    with Registry(config.db_url) as registry:
        run = registry.run(run_id)
        aoi = queries.watched_aoi(registry, run.aoi.name)
        if run.state == RunState.RUNNING:  # its process died (else the claim says busy)
            return look_at(config, aoi.name, now)
        if run.state != RunState.QUEUED:
            return [Outcome(aoi.name, run.state, run_id, run.acquisition_date, run.reason)]
        look = LookContext(registry, config, aoi, now)
        if not _lock(registry, aoi.id, wait_s, poll_s):
            reason = f"another look at AOI {aoi.name!r} did not end within {wait_s:g} s; ask again"
            return [_end(look, run_id, RunState.SKIPPED, reason)]
        try:
            return _look_queued(look, run_id)
        finally:
            runs.unlock_aoi(registry, aoi.id)


def cancel_queued(registry: Registry, run_id: int, reason: str) -> bool:
    """End run ``run_id`` as ``skipped`` with ``reason`` if it is still queued (a look that
    has taken it goes on); whether it was."""
    with registry.session() as s:
        result = s.execute(
            update(Run)
            .where(Run.id == run_id, Run.state == RunState.QUEUED)
            .values(state=RunState.SKIPPED, reason=reason, finished_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


__all__ = ["QUEUED_PREFIX", "cancel_queued", "queue_run", "run_queued"]
