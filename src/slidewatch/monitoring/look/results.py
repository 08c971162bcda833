"""A run's results: change against the AOI's previous run and known landslides (computed
into the work folder), then recorded in one transaction with the alerts they raise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select

from slidewatch import __version__
from slidewatch.monitoring.archive import products
from slidewatch.monitoring.archive.storage import stac_item
from slidewatch.monitoring.look.change import (
    ChangeRecord,
    change_raster,
    label_raster,
    match_landslides,
)
from slidewatch.monitoring.registry.tables import (
    Alert,
    Aoi,
    Change,
    Delivery,
    Detection,
    Landslide,
    Run,
    utcnow,
)


@dataclass(frozen=True)
class Results:
    current: list[dict[str, Any]]
    """This run's landslide features (lon/lat) from detect."""
    known: list[tuple[int, float, dict[str, Any]]]
    """The AOI's known landslides: (id, area m², lon/lat geometry)."""
    records: list[ChangeRecord]
    previous: dict[str, Any] | None
    """The previous run (``{"id", "date"}``), None for the first (baseline) run."""
    files: dict[str, Path]
    stac_item: dict[str, Any]


@dataclass(frozen=True)
class Previous:
    """The AOI's previous done run: what change needs of it."""

    id: int
    acquisition_date: str | None
    landslides_url: str


Known = tuple[int, float, dict[str, Any], int]
"""A known landslide: id, area m², lon/lat geometry, the run that last saw it."""


def _baseline(registry: Any, aoi: Aoi, day: str) -> tuple[Previous | None, list[Known]]:
    """The previous done run before ``day`` and, when there is one, the AOI's known
    landslides (those not merged into another), read in one transaction."""
    with registry.session() as s:
        row = s.execute(
            select(Run.id, Run.acquisition_date, Run.products)
            .where(Run.aoi_id == aoi.id, Run.state == "done", Run.acquisition_date < day)
            .order_by(Run.acquisition_date.desc())
            .limit(1)
        ).first()
        if row is None:
            return None, []
        return Previous(row[0], row[1], row[2]["landslides.tif"]), _known_in(s, aoi)


def _known(registry: Any, aoi: Aoi) -> list[Known]:
    with registry.session() as s:
        return _known_in(s, aoi)


def _known_in(s: Any, aoi: Aoi) -> list[Known]:
    rows = s.execute(
        select(Landslide.id, Landslide.area_m2, Landslide.geometry, Landslide.last_run_id)
        .where(Landslide.aoi_id == aoi.id, Landslide.merged_into_id.is_(None))
        .order_by(Landslide.id)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def compute_results(
    registry: Any, archive: Any, aoi: Aoi, found: Any, run_id: int, work: Path, cloud: float
) -> Results:
    """Change raster, change polygons and the RGB product in ``work``; nothing recorded."""
    import rasterio

    with rasterio.Env():  # one GDAL environment for the products' reads and writes
        return _compute_results(registry, archive, aoi, found, run_id, work, cloud)


def _compute_results(
    registry: Any, archive: Any, aoi: Aoi, found: Any, run_id: int, work: Path, cloud: float
) -> Results:
    files = {"change.tif": work / "change.tif", "change.geojson": work / "change.geojson",
             "rgb.tif": work / "rgb.tif"}  # fmt: skip
    products.write_rgb(work / "stack.tif", files["rgb.tif"])
    detected = work / "detect"
    current = json.loads((detected / "landslides.geojson").read_text())["features"]
    now_raster, grid = products.read_landslides(detected / "landslides.tif")
    previous, known = _baseline(registry, aoi, found.date)
    before = None
    if previous is not None:
        before = products.read_onto(archive.read_bytes(previous.landslides_url), grid)
    change = change_raster(now_raster, before)
    if previous is None:  # the first look is the baseline: nothing is "new" against nothing
        records = [ChangeRecord("baseline", i, None, 0.0) for i in range(len(current))]
    else:
        records = _match(change, grid, current, known, previous.id)
    products.write_change_raster(change, grid, files["change.tif"])
    known3 = [k[:3] for k in known]
    features = [_change_feature(r, current, known3) for r in records if r.kind != "baseline"]
    products.write_change_geojson(features, files["change.geojson"])
    prev = {"id": previous.id, "date": previous.acquisition_date} if previous else None
    properties = {
        "slidewatch:version": __version__, "slidewatch:aoi": aoi.name,
        "slidewatch:scene_ids": [s["id"] for s in found.scenes],
        "slidewatch:cloud_pct": cloud, "slidewatch:model_hash": aoi.model_hash,
        "slidewatch:landslides": len(current), "slidewatch:previous": prev,
        "slidewatch:changes": _counts(records),
    }  # fmt: skip
    item = stac_item(aoi.name, found.date, found.when, aoi.geometry, properties)
    return Results(current, known3, records, prev, files, item)


def _match(
    change: Any, grid: products.Grid, current: list[dict[str, Any]],
    known: list[Known], previous_id: int,
) -> list[ChangeRecord]:  # fmt: skip
    """Change records of this run's polygons against the AOI's known landslides."""
    cur_labels = label_raster([f["geometry"] for f in current], grid.crs, grid.transform,
                              grid.shape)  # fmt: skip
    known_labels = label_raster([k[2] for k in known], grid.crs, grid.transform, grid.shape)
    pixel_m2 = abs(grid.transform.a * grid.transform.e)
    seen_before = [k[3] == previous_id for k in known]
    return match_landslides(change, cur_labels, known_labels, [k[1] for k in known], seen_before,
                            pixel_m2)  # fmt: skip


def _counts(records: list[ChangeRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.kind] = out.get(r.kind, 0) + 1
    return out


def _change_feature(
    r: ChangeRecord, current: list[dict[str, Any]], known: list[tuple[int, float, dict[str, Any]]]
) -> dict[str, Any]:
    """A change as GeoJSON: the current polygon, or the known outline of a landslide gone,
    unknown or merged into another; lineage as landslide ids (a new identity has none yet)."""
    if r.current is not None and r.kind != "merged":
        geometry, area = current[r.current]["geometry"], current[r.current]["properties"]["area_m2"]
    else:
        _, area, geometry = known[r.known or 0]

    def ident(k: int | None) -> int | None:
        return None if k is None else known[k][0]

    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"kind": r.kind, "area_m2": area, "changed_area_m2": r.changed_area_m2,
                       "landslide_id": ident(r.known),
                       "merged_from": [known[k][0] for k in r.merged_from],
                       "merged_into": ident(r.merged_into), "split_from": ident(r.split_from)},
    }  # fmt: skip


def alert_payload(
    aoi: Aoi, run_id: int, found: Any, record: ChangeRecord, landslide_id: int,
    feature: dict[str, Any], previous: dict[str, Any] | None, urls: dict[str, str], cloud: float,
    lineage: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everything a responder needs to judge the alert, and to trace it back. ``lineage``:
    ``merged_from`` (ids) and ``split_from`` (id) when the landslide merged or split."""
    centroid = shape(feature["geometry"]).centroid
    return {
        "aoi": {"name": aoi.name, "geometry": aoi.geometry},
        "run_id": run_id,
        "landslide": {
            "id": landslide_id, "kind": record.kind,
            "area_m2": feature["properties"]["area_m2"],
            "changed_area_m2": round(record.changed_area_m2, 2),
            "mean_probability": feature["properties"]["mean_probability"],
            "centroid_lonlat": [round(centroid.x, 6), round(centroid.y, 6)],
            "geometry": feature["geometry"],
            "merged_from": [], "split_from": None, **(lineage or {}),
        },
        "acquisition": {
            "key": found.key, "date": found.date, "datetime": found.when.isoformat(),
            "scene_ids": [s["id"] for s in found.scenes], "scenes": found.scenes,
            "cloud_pct": cloud,
        },
        "previous_acquisition": previous,
        "model": {"path": aoi.model_path, "hash": aoi.model_hash},
        "thresholds": {"min_new_area_m2": aoi.min_new_area_m2, "max_cloud_pct": aoi.max_cloud_pct},
        "products": urls,
        "slidewatch_version": __version__,
    }  # fmt: skip


def _identity(s: Any, aoi: Aoi, run_id: int, day: str, r: ChangeRecord, res: Results) -> int:
    """The landslide id of a record with a current polygon: matched or new (a split part
    is new, with its lineage)."""
    feature = res.current[r.current]  # type: ignore[index]
    area, geometry = feature["properties"]["area_m2"], feature["geometry"]
    if r.known is not None:
        slide = s.get_one(Landslide, res.known[r.known][0])
        slide.last_run_id, slide.last_seen = run_id, day
        slide.area_m2, slide.geometry = area, geometry
        return int(slide.id)
    parent = None if r.split_from is None else res.known[r.split_from][0]
    slide = Landslide(aoi_id=aoi.id, first_run_id=run_id, last_run_id=run_id, first_seen=day,
                      last_seen=day, area_m2=area, geometry=geometry,
                      split_from_id=parent)  # fmt: skip
    s.add(slide)
    s.flush()
    return int(slide.id)


def _merge(s: Any, run_id: int, day: str, r: ChangeRecord, res: Results) -> int:
    """A known landslide merged into another: seen (as part of it), no longer matched."""
    slide = s.get_one(Landslide, res.known[r.known][0])  # type: ignore[index]
    slide.last_run_id, slide.last_seen = run_id, day
    slide.merged_into_id = res.known[r.merged_into][0]  # type: ignore[index]
    return int(slide.id)


def _record_one(
    s: Any, aoi: Aoi, run_id: int, found: Any, r: ChangeRecord, res: Results,
    urls: dict[str, str], cloud: float,
) -> int:  # fmt: skip
    """Rows for one change record; return 1 when it raised an alert."""
    if r.kind == "merged":
        slide_id = _merge(s, run_id, found.date, r, res)
    elif r.current is None:
        slide_id = res.known[r.known][0]  # type: ignore[index]
    else:
        slide_id = _identity(s, aoi, run_id, found.date, r, res)
        detected = res.current[r.current]
        s.add(Detection(
            run_id=run_id, landslide_id=slide_id, geometry=detected["geometry"],
            area_m2=detected["properties"]["area_m2"],
            mean_probability=detected["properties"]["mean_probability"],
        ))  # fmt: skip
    if r.kind == "baseline":
        return 0
    feature = _change_feature(r, res.current, res.known)
    props = feature["properties"]
    s.add(Change(
        run_id=run_id, landslide_id=slide_id, kind=r.kind, area_m2=props["area_m2"],
        changed_area_m2=r.changed_area_m2, geometry=feature["geometry"],
        merged_from=props["merged_from"] or None, merged_into_id=props["merged_into"],
        split_from_id=props["split_from"],
    ))  # fmt: skip
    if r.kind not in ("new", "grown") or r.changed_area_m2 < aoi.min_new_area_m2:
        return 0
    if s.scalar(select(Alert.id).where(Alert.landslide_id == slide_id)) is not None:
        return 0  # one alert per landslide, ever
    lineage = {"merged_from": props["merged_from"], "split_from": props["split_from"]}
    current = res.current[r.current]  # type: ignore[index]  # new and grown have one
    payload = alert_payload(aoi, run_id, found, r, slide_id, current, res.previous, urls, cloud,
                            lineage)  # fmt: skip
    s.add(_alert(aoi, run_id, slide_id, payload))
    return 1


def _alert(aoi: Aoi, run_id: int, slide_id: int, payload: dict[str, Any]) -> Alert:
    """The alert with one delivery per channel target (the outbox)."""
    alert = Alert(aoi_id=aoi.id, run_id=run_id, landslide_id=slide_id, payload=payload)
    for channel, targets in (("webhook", aoi.webhooks), ("email", aoi.emails)):
        alert.deliveries += [Delivery(channel=channel, target=t) for t in targets]
    return alert


def record_results(
    registry: Any, aoi: Aoi, run_id: int, found: Any, res: Results, urls: dict[str, str],
    cloud: float, timings: dict[str, float],
) -> int:  # fmt: skip
    """Landslides, detections, changes, alerts with their deliveries, and the run marked
    done, in one transaction; return the number of alerts queued."""
    with registry.session() as s:
        alerts = sum(_record_one(s, aoi, run_id, found, r, res, urls, cloud) for r in res.records)
        run = s.get_one(Run, run_id)
        run.state, run.reason, run.owner, run.finished_at = "done", None, None, utcnow()
        run.products, run.cloud_pct, run.timings = urls, cloud, timings
        grown = [r.changed_area_m2 for r in res.records if r.kind in ("new", "grown")]
        run.stats = {
            "landslides": len(res.current),
            "landslide_area_m2": round(sum(f["properties"]["area_m2"] for f in res.current), 2),
            "changes": _counts(res.records),
            "new_area_m2": round(sum(grown), 2),
            "alerts": alerts,
            "baseline": res.previous is None,
            "previous_run": res.previous,
        }
    return alerts
