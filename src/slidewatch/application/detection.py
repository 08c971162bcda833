"""Detect landslides over an area for an event or a date range: search the source, fetch the
acquisition, detect (the one acquire-and-detect of :mod:`slidewatch.monitoring.imagery`).
The OGC ``detect`` process runs it; a monitoring look runs the same acquire-and-detect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from slidewatch.errors import ConfigError, NoSceneError
from slidewatch.inference.detection import DetectionSummary
from slidewatch.monitoring.imagery import (
    Acquire,
    Found,
    RegisteredModel,
    Target,
    acquire_and_detect,
    first_acquisition,
)

EVENT_WINDOW_DAYS = 60
"""After an event date, the first acquisition within this many days is used."""


@dataclass(frozen=True)
class AreaDetection:
    """Where, with which model, and which acquisition."""

    target: Target
    model: RegisteredModel
    start: date
    end: date
    latest: bool
    """The last acquisition between the dates (a date range), else the first (an event)."""
    max_cloud_pct: float = 100.0
    """An acquisition hiding more of the area is refused."""

    @classmethod
    def after_event(
        cls, target: Target, model: RegisteredModel, event: date, max_cloud_pct: float = 100.0
    ) -> AreaDetection:
        """The first acquisition within :data:`EVENT_WINDOW_DAYS` after ``event``."""
        end = event + timedelta(days=EVENT_WINDOW_DAYS)
        return cls(target, model, event, end, False, max_cloud_pct)

    @classmethod
    def between(
        cls, target: Target, model: RegisteredModel, start: date, end: date,
        max_cloud_pct: float = 100.0,
    ) -> AreaDetection:  # fmt: skip
        """The last acquisition between ``start`` and ``end`` (inclusive)."""
        if start > end:
            raise ConfigError(f"start {start} is after end {end}; give start ≤ end")
        return cls(target, model, start, end, True, max_cloud_pct)


@dataclass(frozen=True)
class AreaDetected:
    """The acquisition detected on and what was found."""

    found: Found
    cloud_pct: float
    """Cloud (or unseen ground) over the area, %."""
    summary: DetectionSummary
    """The detection in ``work/detect``."""


def _quiet(stage: str, day: str) -> None:
    """The default progress report: nothing."""


def detect_area(
    request: AreaDetection, work: Path, progress: Callable[[str, str], None] = _quiet
) -> AreaDetected:
    """Detect over ``request``'s acquisition into ``work/detect`` (``progress(stage, date)``
    as ``fetch`` and ``detect`` begin); NoSceneError when there is no acquisition, or it
    hides too much of the area."""
    found = first_acquisition(request.target, request.start, request.end, request.latest)
    detected = acquire_and_detect(
        Acquire(request.model, request.max_cloud_pct, "the job"), found, work,
        lambda stage: progress(stage, found.date),
    )  # fmt: skip
    (work / "stack.tif").unlink(missing_ok=True)
    if detected.summary is None:
        raise NoSceneError(
            f"{detected.cloud_pct:.1f}% of the AOI is unseen on {found.date}; try other dates"
        )
    return AreaDetected(found, detected.cloud_pct, detected.summary)
