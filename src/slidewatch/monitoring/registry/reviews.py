"""A landslide as a responder sees it (its evidence, reviews and alerts), and a reviewer's
verdict recorded with its effect on the landslide's confidence (``confidence.reviewed``),
both as frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from slidewatch.errors import RegistryError
from slidewatch.monitoring.confidence import Attributes, reviewed
from slidewatch.monitoring.kinds import AlertKind, Confidence, DeliveryState, Verdict
from slidewatch.monitoring.registry.records import (
    attributes_of,
    masked_target,
    standing_of,
    store_standing,
)
from slidewatch.monitoring.registry.tables import Alert, Aoi, Landslide, Review, Run, utcnow


@dataclass(frozen=True)
class ReviewRecord:
    """One verdict on a landslide."""

    verdict: Verdict
    note: str | None
    reviewer: str
    """The API key's name, or ``cli:<user>``."""
    at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery of an alert, its target masked (``https://host/…``)."""

    channel: str
    target: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    last_status: int | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class AlertRecord:
    """One alert event of a landslide."""

    id: int
    event_id: str
    run_id: int
    landslide_id: int
    kind: AlertKind
    confidence: Confidence
    acquisition_date: str | None
    """When the ground was seen (the run's acquisition), not when the row was written."""
    created_at: datetime
    deliveries: tuple[DeliveryRecord, ...]


@dataclass(frozen=True)
class LandslideDetail:
    """A landslide: its evidence, what a geologist checks, its verdicts and its alerts."""

    id: int
    aoi: str
    confidence: Confidence
    looks: int
    first_seen: str | None
    last_seen: str | None
    area_m2: float
    max_probability: float | None
    geometry: dict[str, Any]
    attributes: Attributes
    first_run_id: int
    last_run_id: int
    merged_into: int | None
    split_from: int | None
    reviews: tuple[ReviewRecord, ...]
    """Oldest first; the last one is in force."""
    alerts: tuple[AlertRecord, ...]
    """Oldest first."""

    @property
    def verdict(self) -> Verdict | None:
        """The verdict in force (the last one), if reviewed."""
        return self.reviews[-1].verdict if self.reviews else None


def unknown_landslide(landslide_id: int) -> RegistryError:
    return RegistryError(
        f"unknown landslide {landslide_id}; landslide ids are in a run's detections "
        "('monitor history --json', GET /runs/{id}/detections)"
    )


def _delivery(d: Any) -> DeliveryRecord:
    return DeliveryRecord(d.channel, masked_target(d.channel, d.target), d.state, d.attempts,
                          d.last_error, d.last_status, d.delivered_at)  # fmt: skip


def _alert_record(a: Any, day: str | None) -> AlertRecord:
    return AlertRecord(a.id, a.event_id, a.run_id, a.landslide_id, a.kind, a.confidence, day,
                       a.created_at, tuple(_delivery(d) for d in a.deliveries))  # fmt: skip


def alerts_of(registry: Any, aoi_id: int, limit: int = 50) -> list[AlertRecord]:
    """The AOI's alerts, newest acquisition first, with their deliveries (targets masked)."""
    with registry.session() as s:
        rows = s.execute(
            select(Alert, Run.acquisition_date)
            .join(Run, Run.id == Alert.run_id)
            .where(Alert.aoi_id == aoi_id)
            .options(selectinload(Alert.deliveries))
            .order_by(Run.acquisition_date.desc(), Alert.id.desc())
            .limit(limit)
        ).all()
        return [_alert_record(a, day) for a, day in rows]


def landslide_detail(registry: Any, landslide_id: int) -> LandslideDetail:
    """Landslide ``landslide_id``; ``RegistryError`` (404) if there is none."""
    with registry.session() as s:
        row = s.get(Landslide, landslide_id, options=[selectinload(Landslide.reviews)])
        if row is None:
            raise unknown_landslide(landslide_id)
        aoi = s.scalar(select(Aoi.name).where(Aoi.id == row.aoi_id))
        alerts = s.execute(
            select(Alert, Run.acquisition_date)
            .join(Run, Run.id == Alert.run_id)
            .where(Alert.landslide_id == landslide_id)
            .options(selectinload(Alert.deliveries))
            .order_by(Alert.id)
        ).all()
        return LandslideDetail(
            id=row.id, aoi=str(aoi), confidence=Confidence(row.confidence), looks=row.looks,
            first_seen=row.first_seen, last_seen=row.last_seen, area_m2=row.area_m2,
            max_probability=row.max_probability, geometry=row.geometry,
            attributes=attributes_of(row), first_run_id=row.first_run_id,
            last_run_id=row.last_run_id, merged_into=row.merged_into_id,
            split_from=row.split_from_id,
            reviews=tuple(ReviewRecord(r.verdict, r.note, r.reviewer, r.created_at)
                          for r in row.reviews),
            alerts=tuple(
                _alert_record(a, day) for a, day in alerts
            ),
        )  # fmt: skip


def add_review(
    registry: Any, landslide_id: int, verdict: Verdict, note: str | None, reviewer: str
) -> ReviewRecord:
    """Record a verdict and its effect on the landslide's confidence, in one transaction
    (the last verdict wins; every verdict is kept)."""
    with registry.session() as s:
        row = s.get(Landslide, landslide_id, with_for_update=True)
        if row is None:
            raise unknown_landslide(landslide_id)
        at = utcnow()
        s.add(Review(landslide_id=landslide_id, verdict=verdict, note=note, reviewer=reviewer,
                     created_at=at))  # fmt: skip
        store_standing(row, reviewed(standing_of(row), verdict, row.area_m2))
    return ReviewRecord(verdict, note, reviewer, at)
