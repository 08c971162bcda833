"""An AOI's settings as a frozen value, and the checks every new or changed AOI passes."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Self

from slidewatch.errors import ConfigError
from slidewatch.monitoring.confidence import AlertFilters
from slidewatch.monitoring.kinds import AlertOn, Grouping

EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class AoiSettings:
    """What ``monitor add`` registers."""

    name: str
    """Short unique name (lower-case letters, digits, - and _)."""
    geometry: dict[str, Any]
    """GeoJSON Polygon or MultiPolygon in lon/lat."""
    model_path: str
    """Model directory used by every run."""
    model_hash: str
    """``model_hash`` of the model at registration; a run refuses a changed model."""
    source: dict[str, Any] = field(default_factory=dict)
    """Source options, exactly the keyword arguments of ``fetch``'s source options."""
    cadence_days: float = 5.0
    """A new look is due this many days after the last one (Sentinel-2 revisits every 5)."""
    lookback_days: float = 30.0
    """The first run searches this far back from now."""
    min_new_area_m2: float = 2000.0
    """A new or grown landslide of at least this area is alerted."""
    max_cloud_pct: float = 80.0
    """An acquisition hiding more of the AOI than this is skipped with the figure."""
    webhooks: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    active: bool = True
    alert_on: AlertOn = AlertOn.POSSIBLE
    """The least confidence an alert needs to be sent (``possible``: as soon as seen)."""
    alert_grouping: Grouping = Grouping.AUTO
    """One event per landslide, or a digest per run (``auto``: a digest above 5)."""
    alert_filters: AlertFilters = field(default_factory=AlertFilters)
    """Filters on slope, vegetation change and elevation (off by default)."""
    webhook_secret: str | None = None
    """Standard Webhooks signing secret (``whsec_`` + base64); None: unsigned."""

    def to_columns(self) -> dict[str, Any]:
        columns = asdict(self)
        columns["webhooks"] = list(self.webhooks)
        columns["emails"] = list(self.emails)
        columns["alert_filters"] = self.alert_filters.to_dict() or None
        return columns

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """The settings of a registry row (or any object with these attributes)."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__}).normalised()

    def normalised(self) -> Self:
        filters = self.alert_filters
        if not isinstance(filters, AlertFilters):
            filters = AlertFilters.from_dict(filters)
        return replace(self, webhooks=tuple(self.webhooks), emails=tuple(self.emails),
                       alert_on=AlertOn(self.alert_on),
                       alert_grouping=Grouping(self.alert_grouping),
                       alert_filters=filters)  # fmt: skip


def check_geometry(geometry: Any, where: str = "geometry") -> None:
    """Refuse anything but a valid, non-empty lon/lat (Multi)Polygon off the antimeridian,
    with acquisition's messages (the one place for them). The area limit is the edges' check
    (:func:`slidewatch.acquisition.aoi.check_area` with the home's ``max_aoi_km2``)."""
    from slidewatch.acquisition.aoi import AOI
    from slidewatch.errors import AOIError

    try:
        AOI.from_geojson(geometry, where, max_km2=math.inf)
    except AOIError as exc:
        raise ConfigError(str(exc)) from None


def check_settings(settings: AoiSettings) -> None:
    """Every check of an AOI's settings; the message names the field and the fix."""
    check_geometry(settings.geometry, f"AOI {settings.name!r} geometry")
    if not settings.cadence_days > 0:
        raise ConfigError(f"cadence_days {settings.cadence_days} must be positive (days)")
    if not settings.lookback_days > 0:
        raise ConfigError(f"lookback_days {settings.lookback_days} must be positive (days)")
    if settings.min_new_area_m2 < 0:
        raise ConfigError(f"min_new_area_m2 {settings.min_new_area_m2} must be ≥ 0")
    if not 0 <= settings.max_cloud_pct <= 100:
        raise ConfigError(f"max_cloud_pct {settings.max_cloud_pct} must lie in 0..100")
    for url in settings.webhooks:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook {url!r}: give an http:// or https:// URL")
    for label, enum, value in (("alert_on", AlertOn, settings.alert_on),
                               ("alert_grouping", Grouping, settings.alert_grouping)):  # fmt: skip
        if value not in set(enum):
            valid = ", ".join(enum)
            raise ConfigError(f"{label} {value!r}: unknown; valid: {valid}")
    if settings.webhook_secret is not None:
        check_webhook_secret(settings.webhook_secret)
    for address in settings.emails:
        if not EMAIL.fullmatch(address):
            raise ConfigError(f"e-mail {address!r}: give an address like name@example.org")


def check_webhook_secret(secret: str) -> None:
    """A Standard Webhooks secret: ``whsec_`` and base64 of at least 24 bytes."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 24:
        raise ConfigError(
            "webhook secret: give 'whsec_' followed by base64 of at least 24 random bytes "
            "(e.g. python -c \"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32))"
            '.decode())")'
        )
