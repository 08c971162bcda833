"""Reviewed landslides as training material: for each landslide whose verdict in force
matches, the acquisition that last saw it (its run, its polygon there, the archived stack)
and the AOI's acquisition before it (the pre-event stack), as frozen records.

Read by ``monitor export-reviews`` (:mod:`slidewatch.application.export_reviews`); rows
stay inside the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from slidewatch.monitoring.kinds import RunState, Verdict
from slidewatch.monitoring.registry.tables import Aoi, Detection, Landslide, Review, Run

STACK = "stack.tif"
"""The archived stack's product name (``monitoring.look.run.STACK_FILES``)."""


@dataclass(frozen=True)
class Seen:
    """One acquisition of an AOI with its archived stack (None when not archived)."""

    run_id: int
    key: str
    date: str | None
    stack_url: str | None


@dataclass(frozen=True)
class ReviewedLandslide:
    """A landslide, its verdict in force, and where to cut its patches."""

    aoi: str
    landslide_id: int
    review_id: int
    verdict: Verdict
    reviewer: str
    reviewed_at: datetime
    geometry: dict[str, Any]
    """Its polygon (lon/lat) as the acquisition below saw it."""
    seen: Seen
    """The acquisition that last saw it."""
    before: Seen | None
    """The AOI's previous acquisition looked at (the pre-event image), if any."""


def _seen(run: Run) -> Seen:
    products = run.products or {}
    return Seen(run.id, run.acquisition_key, run.acquisition_date, products.get(STACK))


def reviewed_landslides(
    registry: Any,
    aois: Sequence[str] = (),
    since: datetime | None = None,
    verdicts: Sequence[Verdict] = tuple(Verdict),
) -> list[ReviewedLandslide]:
    """Landslides of ``aois`` (all when empty) whose last verdict is one of ``verdicts``,
    given at or after ``since``; oldest review first."""
    with registry.session() as s:
        latest = (select(Review.landslide_id, Review.id).order_by(Review.landslide_id,
                  Review.created_at, Review.id))  # fmt: skip
        last: dict[int, int] = {}
        for landslide_id, review_id in s.execute(latest):
            last[landslide_id] = review_id
        query = (
            select(Review, Landslide, Aoi.name)
            .join(Landslide, Landslide.id == Review.landslide_id)
            .join(Aoi, Aoi.id == Landslide.aoi_id)
            .where(Review.id.in_(list(last.values()) or [-1]))
            .order_by(Review.created_at, Review.id)
        )
        if aois:
            query = query.where(Aoi.name.in_(list(aois)))
        out = []
        for review, slide, aoi in s.execute(query).all():
            if review.verdict not in verdicts or (since and review.created_at < since):
                continue
            run = s.get_one(Run, slide.last_run_id)
            found = s.scalar(select(Detection.geometry).where(
                Detection.run_id == run.id, Detection.landslide_id == slide.id))  # fmt: skip
            out.append(ReviewedLandslide(aoi, slide.id, review.id, Verdict(review.verdict),
                                         review.reviewer, review.created_at,
                                         found or slide.geometry, _seen(run),
                                         _before(s, run)))  # fmt: skip
        return out


def _before(s: Any, run: Run) -> Seen | None:
    """The AOI's last run with a product before ``run``'s acquisition."""
    prior = s.scalars(
        select(Run)
        .where(Run.aoi_id == run.aoi_id, Run.state == RunState.DONE,
               Run.acquisition_date < (run.acquisition_date or ""))
        .order_by(Run.acquisition_date.desc(), Run.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    return _seen(prior) if prior is not None else None
