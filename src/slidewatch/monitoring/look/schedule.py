"""When is an AOI due for a new look? Pure functions of its settings, its past looks and now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slidewatch.monitoring.kinds import FINISHED_STATES, RunState
from slidewatch.monitoring.registry.records import Look

FAILURE_BACKOFF = timedelta(hours=1)
"""Wait after the first failed look; doubled after each further consecutive failure, up to
the cadence (a catalogue that is down is not hammered, and is retried within a cadence)."""
EMPTY_RECHECK = timedelta(hours=12)
"""Wait after a look that found no new acquisition (imagery is published hours to days after
sensing, so waiting a whole cadence would delay the next acquisition by up to a cadence)."""
NOTHING_NEW = "no new acquisition"


@dataclass(frozen=True)
class Decision:
    due: bool
    reason: str
    next_at: datetime | None


def _consecutive_failures(looks: Sequence[Look]) -> int:
    n = 0
    for look in looks:
        if look.state != RunState.FAILED:
            break
        n += 1
    return n


def due(active: bool, cadence_days: float, looks: Sequence[Look], now: datetime) -> Decision:
    """Is an AOI due at ``now``? ``looks``: its finished looks, any order.

    Never looked: due. Last look failed ``n`` times in a row: due after ``FAILURE_BACKOFF ×
    2^(n-1)`` (at most the cadence). Last look found nothing new: after ``EMPTY_RECHECK`` (at
    most the cadence). Otherwise: a cadence after the last look.
    """
    if not active:
        return Decision(False, "paused", None)
    finished = sorted(
        (look for look in looks if look.state in FINISHED_STATES),
        key=lambda look: look.at,
        reverse=True,
    )
    if not finished:
        return Decision(True, "never looked", now)
    last, cadence = finished[0], timedelta(days=cadence_days)
    failures = _consecutive_failures(finished)
    if failures:
        wait = min(cadence, FAILURE_BACKOFF * 2 ** (failures - 1))
        why = f"{failures} failed look(s) in a row, retry after {wait}"
    elif last.state == RunState.SKIPPED and last.reason == NOTHING_NEW:
        wait, why = min(cadence, EMPTY_RECHECK), "nothing new at the last look"
    else:
        wait, why = cadence, f"cadence {cadence_days:g} days"
    next_at = last.at + wait
    return Decision(now >= next_at, why, next_at)
