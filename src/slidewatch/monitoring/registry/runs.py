"""Runs in the registry: claimed exactly once, finished in one transaction.

A run is keyed by (AOI, acquisition key) with a unique constraint: whoever inserts the row
does the work; everyone else sees it and moves on. A ``failed`` run is taken over by the
next look (after the schedule's backoff); a ``running`` run is taken over only when its
owner is gone: a dead process on this host, or no heartbeat for ``STALE_AFTER`` elsewhere.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from slidewatch.monitoring.kinds import FINISHED_STATES, RunState
from slidewatch.monitoring.registry.records import Look
from slidewatch.monitoring.registry.tables import Aoi, Run, utcnow

STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_S = 60.0
HOST = socket.gethostname()


def owner_id() -> str:
    return f"{HOST}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """False when ``owner`` is a process of this host that no longer exists."""
    if not owner or ":" not in owner:
        return False
    host, pid = owner.rsplit(":", 1)
    if host != HOST:
        return True  # cannot tell from here: the heartbeat decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def looks(registry: Any, aoi_id: int) -> list[Look]:
    """The AOI's finished looks (for :func:`slidewatch.monitoring.look.schedule.due`)."""
    with registry.session() as s:
        rows = s.execute(
            select(Run.state, Run.looked_at, Run.created_at, Run.reason).where(
                Run.aoi_id == aoi_id, Run.state.in_(FINISHED_STATES)
            )
        ).all()
    return [Look(state, looked or created, reason) for state, looked, created, reason in rows]


@dataclass(frozen=True)
class Claim:
    run_id: int | None
    """The run this process now owns, or None."""
    busy: bool = False
    """Another live process is working on it (so later acquisitions of the AOI must wait)."""


def claim(registry: Any, aoi_id: int, key: str, now: datetime, **fields: Any) -> Claim:
    """Insert the run as ``running`` by this process, or take over a failed or abandoned
    one. Returns the run id, or None when it is finished or another process has it."""
    me = owner_id()
    started = {"state": RunState.RUNNING, "owner": me, "started_at": utcnow(),
               "heartbeat_at": utcnow(), "looked_at": now, "reason": None}  # fmt: skip
    try:
        with registry.session() as s:
            run = Run(aoi_id=aoi_id, acquisition_key=key, **fields, **started)
            s.add(run)
            s.flush()
            return Claim(run.id)
    except IntegrityError:
        pass
    with registry.session() as s:
        row = s.execute(
            select(Run.id, Run.state, Run.owner, Run.heartbeat_at).where(
                Run.aoi_id == aoi_id, Run.acquisition_key == key
            )
        ).one()
        if row.state in (RunState.DONE, RunState.SKIPPED):
            return Claim(None)
        abandoned = row.state == RunState.RUNNING and (
            not owner_alive(row.owner) or (row.heartbeat_at or now) < utcnow() - STALE_AFTER
        )
        if row.state != RunState.FAILED and not abandoned:
            return Claim(None, busy=True)
        same_owner = Run.owner.is_(None) if row.owner is None else Run.owner == row.owner
        taken = s.execute(
            update(Run)
            .where(Run.id == row.id, Run.state == row.state, same_owner)
            .values(**fields, **started)
        ).rowcount
        return Claim(row.id) if taken == 1 else Claim(None, busy=True)


def lock_aoi(registry: Any, aoi_id: int) -> bool:
    """Take the AOI for one look (no other process looks at it meanwhile); False if taken.
    A lock whose owner is dead, or silent for ``STALE_AFTER``, is taken over."""
    me = owner_id()
    with registry.session() as s:
        owner, beat = s.execute(
            select(Aoi.look_owner, Aoi.look_heartbeat).where(Aoi.id == aoi_id)
        ).one()
        free = (
            owner is None or not owner_alive(owner) or (beat or utcnow()) < utcnow() - STALE_AFTER
        )
        if not free and owner != me:
            return False
        same = Aoi.look_owner.is_(None) if owner is None else Aoi.look_owner == owner
        taken = s.execute(
            update(Aoi).where(Aoi.id == aoi_id, same)
            .values(look_owner=me, look_heartbeat=utcnow(), updated_at=Aoi.updated_at)
        ).rowcount  # fmt: skip
        return bool(taken == 1)


def unlock_aoi(registry: Any, aoi_id: int) -> None:
    with registry.session() as s:
        s.execute(
            update(Aoi).where(Aoi.id == aoi_id, Aoi.look_owner == owner_id())
            .values(look_owner=None, look_heartbeat=None, updated_at=Aoi.updated_at)
        )  # fmt: skip


@contextmanager
def heartbeat(
    registry: Any, run_id: int, aoi_id: int | None = None, every_s: float = HEARTBEAT_S
) -> Iterator[None]:
    """Refresh the run's (and the AOI lock's) heartbeat in a thread while the body works."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            with registry.session() as s:
                s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))
                if aoi_id is not None:
                    s.execute(update(Aoi).where(Aoi.id == aoi_id).values(
                        look_heartbeat=utcnow(), updated_at=Aoi.updated_at))  # fmt: skip

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def end(
    registry: Any, run_id: int, state: RunState, reason: str | None = None, **fields: Any
) -> None:
    """Mark a run finished (``done``, ``skipped`` or ``failed``) outside a result transaction."""
    with registry.session() as s:
        s.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(state=state, reason=reason, finished_at=utcnow(), owner=None, **fields)
        )


def set_timings(registry: Any, run_id: int, timings: dict[str, float]) -> None:
    with registry.session() as s:
        s.execute(update(Run).where(Run.id == run_id).values(timings=timings))
