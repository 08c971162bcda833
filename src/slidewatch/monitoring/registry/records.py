"""Typed records of what the registry holds, as the look, the results and the alerts read
them: frozen values, no session attached, no dicts to index by name.

ORM rows (:mod:`.tables`) stay inside the registry's transactions and the API's answers;
the look works on these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slidewatch.monitoring.confidence import Attributes, Standing
from slidewatch.monitoring.kinds import Confidence, RunState
from slidewatch.monitoring.registry.aois import AoiSettings


@dataclass(frozen=True, kw_only=True)
class WatchedAoi(AoiSettings):
    """An AOI as the registry holds it: its settings and its row id."""

    id: int


@dataclass(frozen=True)
class Look:
    """One finished look at an AOI, as the schedule needs it."""

    state: RunState | str
    """``done``, ``skipped`` or ``failed`` (``running``/``queued`` looks are ignored)."""
    at: datetime
    """When the look was made for (aware UTC)."""
    reason: str | None = None


@dataclass(frozen=True)
class DetectedLandslide:
    """One landslide polygon as a run's detection found it (a feature of detect's
    ``landslides.geojson``)."""

    geometry: dict[str, Any]
    """GeoJSON polygon in lon/lat."""
    area_m2: float
    mean_probability: float

    @classmethod
    def from_feature(cls, feature: dict[str, Any]) -> DetectedLandslide:
        props = feature["properties"]
        return cls(feature["geometry"], props["area_m2"], props["mean_probability"])


@dataclass(frozen=True)
class KnownLandslide:
    """A landslide the AOI already has an identity for (not merged into another)."""

    id: int
    area_m2: float
    geometry: dict[str, Any]
    """Its last outline, GeoJSON in lon/lat."""
    last_run_id: int
    """The run that last saw it (only landslides seen by the previous run can be gone)."""


@dataclass(frozen=True)
class PreviousRun:
    """The AOI's previous done run: what change compares with."""

    id: int
    acquisition_date: str | None
    landslides_url: str
    """Its archived ``landslides.tif``."""
    ndvi_url: str | None = None
    """Its archived ``ndvi.tif`` (runs before 0003 have none)."""

    def summary(self) -> dict[str, Any]:
        """``{"id", "date"}``: how run stats and alert payloads name it."""
        return {"id": self.id, "date": self.acquisition_date}


def standing_of(row: Any) -> Standing:
    """A landslide row's evidence as the confidence rules read it."""
    looks = 1 if row.looks is None else int(row.looks)  # 0: seen only at a cloud edge
    return Standing(Confidence(row.confidence), looks,
                    float(row.max_probability or 0.0), row.rejected_area_m2,
                    bool(row.baseline))  # fmt: skip


def store_standing(row: Any, standing: Standing) -> None:
    """Write a landslide's evidence back onto its row."""
    row.confidence, row.looks = standing.confidence, standing.looks
    row.max_probability, row.rejected_area_m2 = standing.max_probability, standing.rejected_area_m2
    row.baseline = standing.baseline


def attributes_of(row: Any) -> Attributes:
    """What a geologist checks first, as a landslide row holds it."""
    return Attributes(row.mean_slope_deg, row.vegetation_change, row.elevation_m)


def masked_target(channel: str, target: str) -> str:
    """A delivery target as answers show it: a webhook's scheme and host, an address's
    domain (the full URL may hold a token, the address is personal)."""
    from urllib.parse import urlsplit

    if channel == "email":
        return "…@" + target.rpartition("@")[2]
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname or ''}/…"
