"""The registry's tables (SQLAlchemy 2 ORM). The Alembic migrations in ``migrations/``
create exactly these; a test compares the two.

Geometries are GeoJSON dicts in lon/lat (EPSG:4326) so that the web map and any client read
them as they are; areas are m² computed on the acquisition's projected grid. Times are
timezone-aware UTC (stored naive UTC, which both SQLite and PostgreSQL keep exactly).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from slidewatch.monitoring.kinds import (
    AlertKind,
    AlertOn,
    ChangeKind,
    Confidence,
    DeliveryState,
    Grouping,
    RunState,
    Verdict,
)
from slidewatch.monitoring.registry.columns import EnumText, UTCDateTime, new_event_id, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Aoi(Base):
    """An area watched on a schedule."""

    __tablename__ = "aois"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_path: Mapped[str] = mapped_column(Text)
    model_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Source settings exactly as ``fetch`` takes them (``{"source": "stac", "stac_url": ...}``)."""
    cadence_days: Mapped[float] = mapped_column(Float, default=5.0)
    lookback_days: Mapped[float] = mapped_column(Float, default=30.0)
    """How far back the first run searches."""
    min_new_area_m2: Mapped[float] = mapped_column(Float, default=2000.0)
    max_cloud_pct: Mapped[float] = mapped_column(Float, default=80.0)
    """Runs whose acquisition hides more of the AOI than this are skipped."""
    webhooks: Mapped[list[str]] = mapped_column(JSON, default=list)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Alerting (0003).
    alert_on: Mapped[AlertOn] = mapped_column(
        EnumText(AlertOn), default=AlertOn.POSSIBLE, server_default=AlertOn.POSSIBLE.value
    )
    """The least confidence an alert needs to be sent."""
    alert_grouping: Mapped[Grouping] = mapped_column(
        EnumText(Grouping), default=Grouping.AUTO, server_default=Grouping.AUTO.value
    )
    """One event per landslide, or one digest per run (``auto``: a digest above 5)."""
    alert_filters: Mapped[dict[str, float] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    """Filters on a landslide's attributes (``confidence.AlertFilters``); None: off."""
    webhook_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Standard Webhooks signing secret (``whsec_…``); never shown by any answer."""
    look_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """``host:pid`` of the process looking at the AOI now (one look at a time)."""
    look_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    runs: Mapped[list[Run]] = relationship(
        back_populates="aoi", cascade="all, delete-orphan", passive_deletes=True
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "geometry": self.geometry,
            "model_path": self.model_path,
            "model_hash": self.model_hash,
            "source": self.source,
            "cadence_days": self.cadence_days,
            "lookback_days": self.lookback_days,
            "min_new_area_m2": self.min_new_area_m2,
            "max_cloud_pct": self.max_cloud_pct,
            "webhooks": list(self.webhooks),
            "emails": list(self.emails),
            "active": self.active,
            "alert_on": self.alert_on,
            "alert_grouping": self.alert_grouping,
            "alert_filters": dict(self.alert_filters or {}),
            "webhooks_signed": bool(self.webhook_secret),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class Run(Base):
    """One look at one acquisition of one AOI; unique per (AOI, acquisition key)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("aoi_id", "acquisition_key", name="uq_runs_aoi_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aoi_id: Mapped[int] = mapped_column(ForeignKey("aois.id", ondelete="CASCADE"), index=True)
    acquisition_key: Mapped[str] = mapped_column(String(128))
    acquisition_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    scenes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cloud_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[RunState] = mapped_column(EnumText(RunState), default=RunState.QUEUED)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """``host:pid`` of the process working on it (a dead owner's run is taken over)."""
    looked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """The time the look was made for (``run-once --now``); the schedule counts from it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    products: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    aoi: Mapped[Aoi] = relationship(back_populates="runs")

    def to_dict(self) -> dict[str, Any]:
        times = ("looked_at", "created_at", "started_at", "finished_at")
        iso = {k: getattr(self, k) for k in times}
        return {
            "id": self.id,
            "aoi": self.aoi.name,
            "acquisition_key": self.acquisition_key,
            "acquisition_date": self.acquisition_date,
            "scenes": self.scenes,
            "cloud_pct": self.cloud_pct,
            "state": self.state,
            "reason": self.reason,
            "model_hash": self.model_hash,
            **{k: (v.isoformat() if v else None) for k, v in iso.items()},
            "timings": self.timings,
            "products": self.products,
            "stats": self.stats,
        }


class Landslide(Base):
    """A landslide's identity across runs: the same ground keeps the same id."""

    __tablename__ = "landslides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aoi_id: Mapped[int] = mapped_column(ForeignKey("aois.id", ondelete="CASCADE"), index=True)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    first_seen: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_seen: Mapped[str | None] = mapped_column(String(10), nullable=True)
    area_m2: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Lineage (0002). Plain ids, no foreign keys: both ends belong to the same AOI, whose
    # deletion cascades to all of them.
    merged_into_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Set when this landslide merged into another: it is no longer matched by later runs."""
    split_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Set when this landslide began as a part split off another."""
    # Evidence and what a geologist checks first (0003); rules in ``monitoring.confidence``.
    confidence: Mapped[Confidence] = mapped_column(
        EnumText(Confidence), default=Confidence.POSSIBLE,
        server_default=Confidence.POSSIBLE.value,
    )  # fmt: skip
    looks: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Looks that detected it."""
    max_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    rejected_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Its area when a reviewer rejected it (the regrowth rule's reference)."""
    baseline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """First seen by the AOI's first look (no news: never alerted ``confirmed``)."""
    mean_slope_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    vegetation_change: Mapped[float | None] = mapped_column(Float, nullable=True)
    """NDVI after minus NDVI before, mean under the polygon (negative: vegetation lost)."""
    elevation_m: Mapped[float | None] = mapped_column(Float, nullable=True)

    reviews: Mapped[list[Review]] = relationship(
        back_populates="landslide", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Review.id",
    )  # fmt: skip


class Review(Base):
    """A reviewer's verdict on a landslide; every verdict is kept, the last one wins."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    landslide_id: Mapped[int] = mapped_column(
        ForeignKey("landslides.id", ondelete="CASCADE"), index=True
    )
    verdict: Mapped[Verdict] = mapped_column(EnumText(Verdict))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    """Who: the API key's name, or ``cli:<user>``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    landslide: Mapped[Landslide] = relationship(back_populates="reviews")


class Detection(Base):
    """One landslide polygon as one run saw it."""

    __tablename__ = "detections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    landslide_id: Mapped[int] = mapped_column(ForeignKey("landslides.id", ondelete="CASCADE"))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    area_m2: Mapped[float] = mapped_column(Float)
    mean_probability: Mapped[float] = mapped_column(Float)


class Change(Base):
    """A landslide's change between a run and the previous one of its AOI."""

    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    landslide_id: Mapped[int | None] = mapped_column(
        ForeignKey("landslides.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[ChangeKind] = mapped_column(EnumText(ChangeKind))
    area_m2: Mapped[float] = mapped_column(Float)
    changed_area_m2: Mapped[float] = mapped_column(Float)
    """New or grown area counted where both dates saw the ground (gone: the area lost)."""
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_from: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    """Landslide ids that merged into this one in this run (0002)."""
    merged_into_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Kind ``merged``: the landslide this one merged into (0002)."""
    split_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """A part split off this landslide (0002)."""


class Alert(Base):
    """One event of a landslide (new, confirmed, grown) in one run, with its payload."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("landslide_id", "run_id", name="uq_alerts_landslide_run"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aoi_id: Mapped[int] = mapped_column(ForeignKey("aois.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    landslide_id: Mapped[int] = mapped_column(ForeignKey("landslides.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 0003
    event_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_event_id)
    """A UUID: the event's id and the idempotency key of its deliveries, unique across
    registries (a receiver fed by two homes never drops one's alert as the other's copy)."""
    kind: Mapped[AlertKind] = mapped_column(
        EnumText(AlertKind), default=AlertKind.NEW, server_default=AlertKind.NEW.value
    )
    confidence: Mapped[Confidence] = mapped_column(
        EnumText(Confidence), default=Confidence.POSSIBLE,
        server_default=Confidence.POSSIBLE.value,
    )  # fmt: skip

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", passive_deletes=True
    )


class Delivery(Base):
    """The outbox: one row per alert and channel target, until delivered or given up."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "target", name="uq_deliveries_target"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        EnumText(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The last failed attempt: ``HTTP 503``, or the exception's text."""
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The HTTP status of the last attempt (a redirect is a failure too) (0003)."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    alert: Mapped[Alert] = relationship(back_populates="deliveries")
