"""What an alert says: built from typed records of the run (:class:`RunFacts`, shared by
every alert of the run) and of the landslide (:class:`LandslideEvent`), so that a new form
of payload (an envelope, a digest of a run's events) is one more function of the same two
values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shapely.geometry import shape

from slidewatch import __version__
from slidewatch.models.store import model_version
from slidewatch.monitoring.kinds import ChangeKind
from slidewatch.monitoring.registry.records import DetectedLandslide, PreviousRun, WatchedAoi

if TYPE_CHECKING:
    from slidewatch.monitoring.imagery import Found


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
    products: dict[str, str]
    """Product name -> URL in the archive."""


@dataclass(frozen=True)
class LandslideEvent:
    """One landslide's change, as an alert reports it."""

    landslide_id: int
    kind: ChangeKind
    changed_area_m2: float
    """New or grown area, counted where both dates saw the ground."""
    detected: DetectedLandslide
    """Its polygon in this run."""
    merged_from: tuple[int, ...] = ()
    """Landslide ids that merged into this one in this run."""
    split_from: int | None = None
    """The landslide this one split off, in this run."""


def alert_payload(run: RunFacts, event: LandslideEvent) -> dict[str, Any]:
    """Everything a responder needs to judge the alert, and to trace it back."""
    aoi, found, detected = run.aoi, run.acquisition, event.detected
    centroid = shape(detected.geometry).centroid
    return {
        "aoi": {"name": aoi.name, "geometry": aoi.geometry},
        "run_id": run.run_id,
        "landslide": {
            "id": event.landslide_id, "kind": event.kind, "area_m2": detected.area_m2,
            "changed_area_m2": round(event.changed_area_m2, 2),
            "mean_probability": detected.mean_probability,
            "centroid_lonlat": [round(centroid.x, 6), round(centroid.y, 6)],
            "geometry": detected.geometry,
            "merged_from": list(event.merged_from), "split_from": event.split_from,
        },
        "acquisition": {
            "key": found.key, "date": found.date, "datetime": found.when.isoformat(),
            "scene_ids": [s["id"] for s in found.scenes], "scenes": found.scenes,
            "cloud_pct": run.cloud_pct,
        },
        "previous_acquisition": None if run.previous is None else run.previous.summary(),
        "model": {"path": aoi.model_path, **model_version(aoi.model_path, aoi.model_hash)},
        "thresholds": {"min_new_area_m2": aoi.min_new_area_m2, "max_cloud_pct": aoi.max_cloud_pct},
        "products": run.products,
        "slidewatch_version": __version__,
    }  # fmt: skip
