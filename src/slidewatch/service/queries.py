"""The service's reads of the monitoring registry, shaped for the API and the web map.

Detections come with what a click on the map shows: area, mean probability, first and last
seen, the run's scene ids and dates, and the change kind of the landslide in that run (so the
map highlights new and grown ones). Columns are selected directly (no ORM objects) because a
run may hold tens of thousands of polygons.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import Response
from sqlalchemy import Text, cast, select

from slidewatch.monitoring.alerts.payload import Links
from slidewatch.monitoring.archive import Archive, ProductNotFound
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.counts import landslide_kinds, run_counts
from slidewatch.monitoring.registry.tables import Alert, Detection, Landslide, Run
from slidewatch.redact import redact
from slidewatch.service.problems import NotFound
from slidewatch.service.public import hide_paths
from slidewatch.service.tiles import PRODUCT_KEYS, footprint, product_path

BBox = tuple[float, float, float, float]


def _bounds(geometry: dict[str, Any]) -> BBox:
    """Lon/lat bounds of a (Multi)Polygon's coordinates without building a shapely object."""
    coords = geometry.get("coordinates") or []
    rings = coords if geometry.get("type") == "Polygon" else [r for p in coords for r in p]
    xs = [pt[0] for ring in rings for pt in ring]
    ys = [pt[1] for ring in rings for pt in ring]
    if not xs:
        return (0.0, 0.0, 0.0, 0.0)
    return (min(xs), min(ys), max(xs), max(ys))


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def scene_summary(run: Run) -> tuple[list[str], list[str]]:
    """The ids and dates of the scenes a run used, in the run's order."""
    ids = [str(s.get("id", "")) for s in run.scenes or [] if isinstance(s, dict)]
    dates = sorted({str(s.get("datetime", s.get("date", "")))[:10] for s in run.scenes or []
                    if isinstance(s, dict)} - {""})  # fmt: skip
    return ids, dates


def detections(
    registry: Registry,
    run_id: int,
    bbox: Sequence[float] | None = None,
    min_area_m2: float = 0.0,
    limit: int | None = None,
) -> str:
    """A run's landslides as GeoJSON FeatureCollection text, filtered by ``bbox`` and area.

    Geometries are copied from the database as stored JSON text, never parsed (parsing and
    re-serialising them cost 4/5 of the time for 10,000 polygons), except to test ``bbox``.
    """
    run = registry.run(run_id)
    scene_ids, dates = scene_summary(run)
    query = (
        select(Detection.id, Detection.landslide_id, cast(Detection.geometry, Text),
               Detection.area_m2, Detection.mean_probability, Landslide.first_seen,
               Landslide.last_seen, Landslide.confidence, Landslide.looks)
        .join(Landslide, Landslide.id == Detection.landslide_id)
        .where(Detection.run_id == run_id, Detection.area_m2 >= min_area_m2)
        .order_by(Detection.id)
    )  # fmt: skip
    # one kind per landslide, as the run's counts have it (a join on the change rows would
    # repeat a polygon whose landslide has two rows)
    kinds = landslide_kinds(registry, [run_id])[run_id]
    box = tuple(bbox) if bbox is not None else None
    common = f',"run_id":{run_id},"acquisition_date":{json.dumps(run.acquisition_date)}}}}}'
    parts = []
    with registry.session() as session:
        for det_id, slide_id, geometry, area, prob, first, last, sure, looks in session.execute(
            query
        ):
            kind = kinds.get(slide_id)
            if box is not None and not _overlaps(_bounds(json.loads(geometry)), box):  # type: ignore[arg-type]
                continue
            parts.append(
                f'{{"type":"Feature","id":{det_id},"geometry":{geometry},"properties":'
                f'{{"id":{det_id},"landslide_id":{slide_id},"area_m2":{_number(area)},'
                f'"mean_probability":{_number(prob)},"first_seen":{json.dumps(first)},'
                f'"last_seen":{json.dumps(last)},"change":{json.dumps(kind)},'
                f'"confidence":{json.dumps(str(sure) if sure else None)},"looks":{int(looks or 0)}'
                f"{common}"
            )
            if limit is not None and len(parts) >= limit:
                break
    about = {"id": run_id, "aoi": run.aoi.name, "acquisition_date": run.acquisition_date,
             "scene_ids": scene_ids, "scene_dates": dates}  # fmt: skip
    return (
        f'{{"type":"FeatureCollection","run":{json.dumps(about)},"features":['
        + ",".join(parts)
        + "]}"
    )


def _number(value: float | None) -> str:
    return "null" if value is None or value != value else repr(float(value))


def changes(registry: Registry, run_id: int) -> dict[str, Any]:
    """A run's changes against the previous run (new, grown, unchanged, gone, unknown)."""
    collection = registry.changes_geojson(run_id)
    for i, feature in enumerate(collection["features"]):
        feature["id"] = i + 1
    return collection


def with_counts(
    registry: Registry, runs: Sequence[Run], archive: Archive | None, base: str = "",
    roots: Sequence[str] = (),
) -> list[Any]:  # fmt: skip
    """:func:`run_summary` of each run with its landslide counts (one query for all)."""
    counts = run_counts(registry, [r.id for r in runs])
    return [run_summary(r, archive, counts[r.id], base, roots) for r in runs]


def run_summary(
    run: Run, archive: Archive | None = None, counts: dict[str, int] | None = None,
    base: str = "", roots: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """A run as the API shows it: the registry's fields, product names (never paths), links
    (URLs under ``base``, the public URL, by the alerts' ``Links``), ``counts`` (landslides
    per change kind, :mod:`slidewatch.monitoring.registry.counts`) and, given
    the ``archive``, the lon/lat bounds and zooms of its rasters for map clients. Server
    paths in its text (a failed run's reason) are hidden (:mod:`slidewatch.service.public`)."""
    data = hide_paths(run.to_dict(), roots)
    data["counts"] = counts
    if data.get("reason"):  # a failure's reason may quote a source or database URL
        data["reason"] = redact(data["reason"])
    stored = run.products or {}
    data.pop("products", None)
    products = sorted(k for k, v in stored.items() if isinstance(v, str))
    scene_ids, dates = scene_summary(run)
    data.update(products=products, scene_ids=scene_ids, scene_dates=dates)
    links = Links(base)
    data["links"] = {
        "self": links.url(f"/runs/{run.id}"),
        "detections": links.url(f"/runs/{run.id}/detections"),
        "changes": links.url(f"/runs/{run.id}/changes"),
        "tiles": links.url(f"/tiles/{run.id}/{{layer}}/{{z}}/{{x}}/{{y}}.png"),
        "map": links.map_view(run.aoi.name, run.id),
        "products": {name: links.product(run.id, name) for name in products},
    }
    data["layers"] = [n for n, keys in PRODUCT_KEYS.items() if any(k in stored for k in keys)]
    data.update(bounds=None, minzoom=None, maxzoom=None)
    if archive is not None:
        for layer in ("landslides", "probability"):
            try:
                data.update(footprint(archive.admit(product_path(stored, layer))))
                break
            except (NotFound, ProductNotFound):
                continue
    return data


def alert_list(
    registry: Registry, alerts: Sequence[Alert], base: str = "", roots: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Alert events as ``GET /alerts`` shows them: the event (kind, confidence when sent),
    when the ground was seen (the run's acquisition date, not when the row was written), the
    landslide's area and confidence now (a review changes it), each delivery with its last
    error, links (the run, the landslide, the map), the payload with server paths hidden."""
    links = Links(base)
    run_ids = {a.run_id for a in alerts}
    slide_ids = {a.landslide_id for a in alerts}
    with registry.session() as session:
        dates = dict(
            session.execute(select(Run.id, Run.acquisition_date).where(Run.id.in_(run_ids))).all()
        )
        slides = {i: (area, sure) for i, area, sure in session.execute(
            select(Landslide.id, Landslide.area_m2, Landslide.confidence)
            .where(Landslide.id.in_(slide_ids)))}  # fmt: skip
    out = []
    for a in alerts:
        area, now = slides.get(a.landslide_id, (None, None))
        out.append({
            "id": a.id, "event_id": a.event_id, "aoi_id": a.aoi_id, "run_id": a.run_id,
            "landslide_id": a.landslide_id, "kind": a.kind, "confidence": a.confidence,
            "acquisition_date": dates.get(a.run_id), "area_m2": area,
            "landslide_confidence": now, "created_at": a.created_at.isoformat(),
            "payload": hide_paths(a.payload, roots),
            "deliveries": [
                {"channel": d.channel, "state": d.state, "attempts": d.attempts,
                 "last_error": hide_paths(d.last_error, roots), "last_status": d.last_status}
                for d in a.deliveries
            ],
            "links": {"run": links.url(f"/runs/{a.run_id}"),
                      "landslide": links.landslide(a.landslide_id)},
        })  # fmt: skip
    return out


def geojson_response(content: dict[str, Any] | str) -> Response:
    """A GeoJSON answer serialised once, without FastAPI's per-field validation pass."""
    if isinstance(content, str):
        return Response(content, media_type="application/geo+json")
    body = json.dumps(content, separators=(",", ":"), allow_nan=False, default=str)
    return Response(body, media_type="application/geo+json")
