"""A run's results, computed into its work folder and nothing recorded: change against the
AOI's previous run and known landslides, the change raster and polygons, the RGB product
and the run's STAC item (:mod:`.record` then records them in one transaction)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slidewatch import __version__
from slidewatch.monitoring.archive import Archive, products, stac_item
from slidewatch.monitoring.confidence import Attributes
from slidewatch.monitoring.kinds import ChangeKind
from slidewatch.monitoring.look import attributes
from slidewatch.monitoring.look.change import (
    ChangeRecord,
    change_raster,
    label_raster,
    match_landslides,
)
from slidewatch.monitoring.look.context import RunContext
from slidewatch.monitoring.registry import queries
from slidewatch.monitoring.registry.counts import count_kinds
from slidewatch.monitoring.registry.records import DetectedLandslide, KnownLandslide, PreviousRun
from slidewatch.scene import Grid


@dataclass(frozen=True)
class Results:
    """What a run found, before anything is recorded."""

    current: list[DetectedLandslide]
    """This run's landslide polygons (detect's ``landslides.geojson``)."""
    known: list[KnownLandslide]
    """The AOI's known landslides (empty for the baseline run)."""
    records: list[ChangeRecord]
    """One per landslide: indexes into ``current`` and ``known``."""
    previous: PreviousRun | None
    """The previous run, None for the first (baseline) run."""
    files: dict[str, Path]
    """The products made here (name -> path in the work folder)."""
    stac_item: dict[str, Any]
    cloud_pct: float
    """Cloud over the AOI in the acquisition (%)."""
    attributes: list[Attributes] = field(default_factory=list)
    """What a geologist checks first, one per ``current`` polygon (empty: not measured)."""

    attributes_s: float = 0.0
    """Time spent measuring the attributes and writing ``ndvi.tif`` (part of ``change_s``)."""

    def attributes_of(self, current: int) -> Attributes:
        return self.attributes[current] if current < len(self.attributes) else Attributes()


def change_counts(records: list[ChangeRecord]) -> dict[ChangeKind, int]:
    """Landslides per change kind of a run's records (:func:`count_kinds`: the one count)."""
    keyed = (((None, r.current) if r.known is None else r.known, r.kind) for r in records)
    return count_kinds(keyed)


def compute_results(ctx: RunContext, archive: Archive, cloud_pct: float) -> Results:
    """Change raster, change polygons and the RGB product in the run's work folder."""
    import rasterio

    with rasterio.Env():  # one GDAL environment for the products' reads and writes
        return _compute_results(ctx, archive, cloud_pct)


def _compute_results(ctx: RunContext, archive: Archive, cloud_pct: float) -> Results:
    work, aoi, found = ctx.work, ctx.aoi, ctx.found
    files = {"change.tif": work / "change.tif", "change.geojson": work / "change.geojson",
             "rgb.tif": work / "rgb.tif", "ndvi.tif": work / "ndvi.tif"}  # fmt: skip
    products.write_rgb(work / "stack.tif", files["rgb.tif"])
    t = time.perf_counter()
    layers = attributes.stack_layers(work / "stack.tif")
    detected = work / "detect"
    features = json.loads((detected / "landslides.geojson").read_text())["features"]
    current = [DetectedLandslide.from_feature(f) for f in features]
    now_raster, grid = products.read_landslides(detected / "landslides.tif")
    previous, known = queries.baseline(ctx.registry, aoi.id, found.date)
    attributes.write_ndvi(layers["ndvi"], grid, files["ndvi.tif"])
    ndvi_before = None
    if previous is not None and previous.ndvi_url:
        ndvi_before = attributes.read_ndvi_onto(archive.read_bytes(previous.ndvi_url), grid)
    measuring = time.perf_counter() - t
    before = None
    if previous is not None:
        before = products.read_onto(archive.read_bytes(previous.landslides_url), grid)
    change = change_raster(now_raster, before)
    cur_labels = label_raster([c.geometry for c in current], grid.crs, grid.transform, grid.shape)
    t = time.perf_counter()
    measured = attributes.measure(cur_labels, len(current), layers, ndvi_before)
    measuring += time.perf_counter() - t
    if previous is None:  # the first look is the baseline: nothing is "new" against nothing
        records = [ChangeRecord(ChangeKind.BASELINE, i, None, 0.0) for i in range(len(current))]
    else:
        records = _match(change, grid, cur_labels, known, previous.id)
    products.write_change_raster(change, grid, files["change.tif"])
    changes = [change_feature(r, current, known) for r in records
               if r.kind != ChangeKind.BASELINE]  # fmt: skip
    products.write_change_geojson(changes, files["change.geojson"])
    prev = None if previous is None else previous.summary()
    properties = {
        "slidewatch:version": __version__, "slidewatch:aoi": aoi.name,
        "slidewatch:scene_ids": [s["id"] for s in found.scenes],
        "slidewatch:cloud_pct": cloud_pct, "slidewatch:model_hash": aoi.model_hash,
        "slidewatch:landslides": len(current), "slidewatch:previous": prev,
        "slidewatch:changes": change_counts(records),
    }  # fmt: skip
    item = stac_item(aoi.name, found.date, found.when, aoi.geometry, properties)
    return Results(current, known, records, previous, files, item, cloud_pct, measured, measuring)


def _match(
    change: Any, grid: Grid, cur_labels: Any, known: list[KnownLandslide], previous_id: int
) -> list[ChangeRecord]:
    """Change records of this run's polygons (``cur_labels``) against the AOI's known
    landslides."""
    known_labels = label_raster([k.geometry for k in known], grid.crs, grid.transform, grid.shape)
    pixel_m2 = abs(grid.transform.a * grid.transform.e)
    seen_before = [k.last_run_id == previous_id for k in known]
    return match_landslides(change, cur_labels, known_labels, [k.area_m2 for k in known],
                            seen_before, pixel_m2)  # fmt: skip


def change_feature(
    r: ChangeRecord, current: list[DetectedLandslide], known: list[KnownLandslide]
) -> dict[str, Any]:
    """A change as GeoJSON: the current polygon, or the known outline of a landslide gone,
    unknown or merged into another; lineage as landslide ids (a new identity has none yet)."""
    if r.current is not None and r.kind != ChangeKind.MERGED:
        geometry, area = current[r.current].geometry, current[r.current].area_m2
    else:
        geometry, area = known[r.known or 0].geometry, known[r.known or 0].area_m2

    def ident(k: int | None) -> int | None:
        return None if k is None else known[k].id

    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"kind": r.kind, "area_m2": area, "changed_area_m2": r.changed_area_m2,
                       "landslide_id": ident(r.known),
                       "merged_from": [known[k].id for k in r.merged_from],
                       "merged_into": ident(r.merged_into), "split_from": ident(r.split_from)},
    }  # fmt: skip
