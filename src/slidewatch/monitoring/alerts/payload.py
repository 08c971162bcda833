"""What an alert says: one CloudEvents 1.0 envelope per event (``type``
``org.slidewatch.landslide.<new|confirmed|grown>``, the alert id in ``id`` and in ``data``),
built from typed records of the run (:class:`RunFacts`, shared by every alert of the run)
and of the landslide (:class:`LandslideEvent`); a run's events can travel as one digest
(:func:`digest`). Links are URLs under the service's public URL (relative without one),
never paths on the server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from shapely.geometry import shape

from slidewatch import __version__
from slidewatch.monitoring.confidence import Attributes, Standing
from slidewatch.monitoring.kinds import AlertKind, ChangeKind
from slidewatch.monitoring.registry.records import DetectedLandslide, PreviousRun, WatchedAoi
from slidewatch.monitoring.registry.tables import new_event_id

if TYPE_CHECKING:
    from slidewatch.monitoring.imagery import Found

SPEC_VERSION = "1.0"
TYPE_PREFIX = "org.slidewatch.landslide."
DIGEST_TYPE = TYPE_PREFIX + "digest"
DIGEST_NAMESPACE = uuid.UUID("5b0c3c2e-8f8e-4f51-9d0e-3a1f1f7c2d41")
"""A digest's id is a UUID 5 of its events' ids in this namespace: a retry of the same
digest carries the same id (the receiver's idempotency key)."""


@dataclass(frozen=True)
class Links:
    """URLs of what a responder opens, under ``base`` (``SLIDEWATCH_PUBLIC_URL``; empty:
    paths relative to wherever ``serve`` is reached)."""

    base: str = ""

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path

    def product(self, run_id: int, name: str) -> str:
        return self.url(f"/runs/{run_id}/products/{quote(name)}")

    def map_view(self, aoi: str, run_id: int, landslide_id: int | None = None) -> str:
        query = {"aoi": aoi, "run": run_id}
        if landslide_id is not None:
            query["landslide"] = landslide_id
        return self.url("/?" + urlencode(query))

    def landslide(self, landslide_id: int) -> str:
        return self.url(f"/landslides/{landslide_id}")

    def source(self, aoi: str) -> str:
        """The CloudEvents ``source`` of an AOI's events."""
        return self.url(f"/aois/{quote(aoi)}") if self.base else f"/aois/{quote(aoi)}"


@dataclass(frozen=True)
class ModelFacts:
    """The model as a payload names it: its folder's name, hash and validation F1 (no path)."""

    name: str
    hash: str
    validation_f1: float | None

    @classmethod
    def of(cls, path: str, model_hash: str) -> ModelFacts:
        """Read once per run from the model's ``model.json`` (F1 None when it has none)."""
        from pathlib import Path

        from slidewatch.models.modelfile import read_spec

        try:
            metrics = read_spec(Path(path)).metrics
        except Exception:  # the run already checked the model; a payload never fails on it
            metrics = {}
        f1 = next((metrics[k] for k in ("f1", "val_f1", "F1") if k in metrics), None)
        return cls(Path(path).name, model_hash, None if f1 is None else round(float(f1), 4))


@dataclass(frozen=True)
class RunFacts:
    """What every alert of one run says alike."""

    aoi: WatchedAoi
    run_id: int
    acquisition: Found
    cloud_pct: float
    """Cloud over the AOI in the acquisition (%)."""
    previous: PreviousRun | None
    """The run this one was compared with (None: the baseline)."""
    products: tuple[str, ...]
    """The run's product names (``GET /runs/{id}/products/{name}``)."""
    links: Links
    model: ModelFacts


@dataclass(frozen=True)
class LandslideEvent:
    """One landslide's event, as an alert reports it."""

    landslide_id: int
    kind: ChangeKind
    changed_area_m2: float
    """New or grown area, counted where both dates saw the ground."""
    detected: DetectedLandslide
    """Its polygon in this run."""
    merged_from: tuple[int, ...] = ()
    split_from: int | None = None
    alert: AlertKind = AlertKind.NEW
    standing: Standing = field(default_factory=Standing)
    """Its evidence after this look (confidence, looks, highest probability)."""
    attributes: Attributes = field(default_factory=Attributes)
    first_seen: str | None = None
    last_seen: str | None = None


def _landslide(event: LandslideEvent) -> dict[str, Any]:
    detected, standing, attrs = event.detected, event.standing, event.attributes
    centroid = shape(detected.geometry).centroid
    return {
        "id": event.landslide_id, "change": event.kind, "confidence": standing.confidence,
        "area_m2": round(detected.area_m2, 2),
        "changed_area_m2": round(event.changed_area_m2, 2),
        "probability": round(detected.mean_probability, 4),
        "max_probability": round(standing.max_probability, 4),
        "mean_slope_deg": attrs.mean_slope_deg, "vegetation_change": attrs.vegetation_change,
        "elevation_m": attrs.elevation_m,
        "centroid_lonlat": [round(centroid.x, 6), round(centroid.y, 6)],
        "first_seen": event.first_seen, "last_seen": event.last_seen, "looks": standing.looks,
        "geometry": detected.geometry,
        "merged_from": list(event.merged_from), "split_from": event.split_from,
    }  # fmt: skip


def event_data(run: RunFacts, event: LandslideEvent, alert_id: str) -> dict[str, Any]:
    """The ``data`` of one event: the landslide, the acquisition, the model, links."""
    aoi, found, links = run.aoi, run.acquisition, run.links
    return {
        "alert_id": alert_id, "kind": event.alert, "confidence": event.standing.confidence,
        "aoi": {"name": aoi.name, "geometry": aoi.geometry},
        "run_id": run.run_id,
        "landslide": _landslide(event),
        "acquisition": {
            "key": found.key, "date": found.date, "datetime": found.when.isoformat(),
            "scene_ids": [s["id"] for s in found.scenes], "cloud_pct": run.cloud_pct,
            "baseline": None if run.previous is None else run.previous.summary(),
        },
        "model": {"name": run.model.name, "hash": run.model.hash,
                  "validation_f1": run.model.validation_f1},
        "thresholds": {"min_new_area_m2": aoi.min_new_area_m2, "max_cloud_pct": aoi.max_cloud_pct},
        "links": {
            "map": links.map_view(aoi.name, run.run_id, event.landslide_id),
            "landslide": links.landslide(event.landslide_id),
            "stac_item": links.product(run.run_id, "stac_item"),
            "products": {n: links.product(run.run_id, n) for n in run.products
                         if n != "stac_item"},
        },
        "slidewatch_version": __version__,
    }  # fmt: skip


def alert_payload(run: RunFacts, event: LandslideEvent) -> dict[str, Any]:
    """One CloudEvents 1.0 envelope (structured mode); ``id`` is the alert's id."""
    alert_id = new_event_id()
    return {
        "specversion": SPEC_VERSION,
        "id": alert_id,
        "source": run.links.source(run.aoi.name),
        "type": TYPE_PREFIX + event.alert,
        "time": run.acquisition.when.isoformat(),
        "subject": f"landslides/{event.landslide_id}",
        "datacontenttype": "application/json",
        "data": event_data(run, event, alert_id),
    }


def digest(envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    """One envelope holding a run's events (same AOI and run), id stable across retries."""
    first = envelopes[0]
    ids = sorted(e["id"] for e in envelopes)
    data = first["data"]
    kinds: dict[str, int] = {}
    for e in envelopes:
        kinds[e["data"]["kind"]] = kinds.get(e["data"]["kind"], 0) + 1
    return {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid5(DIGEST_NAMESPACE, ",".join(ids))),
        "source": first["source"],
        "type": DIGEST_TYPE,
        "time": first["time"],
        "subject": f"runs/{data['run_id']}",
        "datacontenttype": "application/json",
        "data": {"aoi": data["aoi"]["name"], "run_id": data["run_id"],
                 "acquisition": data["acquisition"], "count": len(envelopes), "kinds": kinds,
                 "alert_ids": ids, "events": envelopes},
    }  # fmt: skip
