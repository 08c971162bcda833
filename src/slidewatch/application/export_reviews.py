"""Reviewed landslides → L4S training patches (``slidewatch monitor export-reviews``).

Each landslide whose verdict in force matches is cut from the archived stack of the
acquisition that last saw it (:mod:`.review_windows`): the 128 px windows of the stack's
lattice that cover its polygon, every band the stack has in L4S order and scale (a
``bands`` attribute when fewer than 14); the mask every confirmed polygon of that
acquisition rasterised (a window of rejected landslides only is all zero: a hard negative);
pixels the acquisition did not see written 0 in image and mask (the dataset's no-data rule,
as ``build-patches``), windows seeing less than half the ground skipped. The same window of
the AOI's previous acquisition goes to ``pre/`` (the labeler's before image) when the
archive holds it. ``index.geojson``/``index.csv`` list every patch with its bounds, CRS
and source, the landslides it was cut for as ``groups`` (splits keep a landslide's windows
together) and the ``reviews`` (a model trained on the folder names them: its lineage).

Idempotent: a patch per window of an acquisition; a re-export writes what is new (and the
masks of changed verdicts), and says what it wrote and skipped, and why. No torch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from slidewatch.application.review_windows import (
    PATCH_PX,
    pixel_box,
    windows_over,
    write_window,
)
from slidewatch.application.settings import HomeSettings
from slidewatch.atomic import write_text_atomic
from slidewatch.data.patch_index import INDEX_GEOJSON
from slidewatch.monitoring.kinds import Verdict
from slidewatch.monitoring.registry.reviewed import ReviewedLandslide, Seen, reviewed_landslides


@dataclass(frozen=True)
class ExportRequest:
    """Which reviews become patches, and where."""

    out: Path
    aois: tuple[str, ...] = ()
    """Only these AOIs; empty: all."""
    since: datetime | None = None
    """Only verdicts given at or after this time (aware UTC)."""
    verdicts: tuple[Verdict, ...] = tuple(Verdict)


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and skipped."""

    out: Path
    written: dict[str, int]
    """Patches written by kind: ``confirmed``, ``rejected``, ``pre`` (before images),
    ``updated`` (masks rewritten after a changed verdict)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Landslides or windows not written, by reason."""
    patches: int = 0
    """Patches in the folder now."""


def export_reviews(settings: HomeSettings, request: ExportRequest) -> ExportReport:
    """Write the patches of the reviewed landslides (module docstring)."""
    from slidewatch.monitoring.archive import Archive
    from slidewatch.monitoring.registry import Registry

    layout = settings.layout.created()
    with Registry(layout.registry_url) as registry:
        reviewed = reviewed_landslides(registry, request.aois, request.since, request.verdicts)
    archive = Archive(layout.storage)
    out = Path(request.out)
    features = _read_index(out)
    tally = _Tally()
    by_run: dict[tuple[str, int], list[ReviewedLandslide]] = {}
    for slide in reviewed:
        by_run.setdefault((slide.aoi, slide.seen.run_id), []).append(slide)
    for slides in by_run.values():
        _export_acquisition(archive, slides, out, features, tally)
    _write_index(out, features)
    return ExportReport(out, dict(tally.written), dict(tally.skipped), len(features))


@dataclass
class _Tally:
    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _read_index(out: Path) -> dict[str, dict[str, Any]]:
    try:
        payload = json.loads((out / INDEX_GEOJSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(f["id"]): f for f in payload.get("features", []) if "id" in f}


def _export_acquisition(archive: Any, slides: list[ReviewedLandslide], out: Path,
                        features: dict[str, dict[str, Any]], tally: _Tally) -> None:  # fmt: skip
    """The windows of one acquisition's reviewed landslides: each window once, its mask
    every confirmed polygon of the acquisition inside it."""
    opened = _open(archive, slides[0].seen)
    if isinstance(opened, str):
        tally.skipped[opened] += len(slides)
        return
    first = slides[0]
    before = _open(archive, first.before) if first.before is not None else None
    with opened.open() as ds:
        pre = before.open() if before is not None and not isinstance(before, str) else None
        try:
            _cut_all(ds, pre, slides, out, features, tally)
        finally:
            if pre is not None:
                pre.close()


def _open(archive: Any, seen: Seen) -> Any:
    """The admitted stack product of ``seen``, or the reason there is none."""
    from slidewatch.errors import RegistryError

    if seen.stack_url is None:
        return "stack not archived (a run before stacks were kept)"
    try:
        return archive.admit(seen.stack_url)
    except (RegistryError, OSError):
        return "stack missing from the archive (pruned)"


def _cut_all(ds: Any, pre: Any, slides: list[ReviewedLandslide], out: Path,
             features: dict[str, dict[str, Any]], tally: _Tally) -> None:  # fmt: skip
    from rasterio.warp import transform_geom

    geoms = {s.landslide_id: transform_geom("EPSG:4326", ds.crs, s.geometry) for s in slides}
    boxes = {k: pixel_box(ds, g) for k, g in geoms.items()}
    windows: dict[tuple[int, int], list[ReviewedLandslide]] = {}
    makers: dict[tuple[int, int], list[int]] = {}  # the landslides a window was cut for
    for slide in slides:
        for origin in windows_over(boxes[slide.landslide_id], PATCH_PX):
            windows.setdefault(origin, [])
            makers.setdefault(origin, []).append(slide.landslide_id)
    for (row, col), inside in windows.items():
        for slide in slides:  # every reviewed landslide the window touches
            r0, c0, r1, c1 = boxes[slide.landslide_id]
            if r0 < row + PATCH_PX and r1 > row and c0 < col + PATCH_PX and c1 > col:
                inside.append(slide)
    confirmed = [geoms[s.landslide_id] for s in slides if s.verdict == Verdict.CONFIRMED]
    first = slides[0]
    stem = f"{first.aoi}-{first.seen.date or first.seen.run_id}"
    for (row, col), inside in sorted(windows.items()):
        patch = f"image_{stem}-r{row}-c{col}"
        verdicts = sorted([s.landslide_id, str(s.verdict)] for s in inside)
        old = features.get(patch)
        if old is not None and sorted(
                [r["landslide_id"], r["verdict"]] for r in old["properties"]["reviews"]
        ) == verdicts:  # fmt: skip
            tally.skipped["already exported"] += 1
            continue
        feature = write_window(ds, pre, (row, col), confirmed, inside, patch, out)
        if feature is not None:
            feature["properties"]["groups"] = [f"{first.aoi}/{i}" for i in makers[(row, col)]]
        if feature is None:
            tally.skipped["window mostly unseen in the acquisition"] += 1
            continue
        kind = "updated" if old is not None else (
            "confirmed" if feature["properties"]["landslide_pixels"] else "rejected")  # fmt: skip
        tally.written[kind] += 1
        tally.written["pre"] += feature["properties"]["pre"] is not None
        features[patch] = feature


CSV_COLUMNS = ("id", "image", "mask", "pre", "crs", "row_off", "col_off", "minx", "miny",
               "maxx", "maxy", "west", "south", "east", "north", "valid_fraction",
               "landslide_pixels", "landslides", "verdicts", "date")  # fmt: skip


def _write_index(out: Path, features: dict[str, dict[str, Any]]) -> None:
    """``index.geojson`` and ``index.csv`` of every exported patch (atomically)."""
    import csv
    import io

    if not features:
        return
    ordered = [features[k] for k in sorted(features)]
    doc = {"type": "FeatureCollection", "source": "slidewatch monitor export-reviews",
           "size": PATCH_PX, "features": ordered}  # fmt: skip
    write_text_atomic(out / INDEX_GEOJSON, json.dumps(doc, indent=1))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in ordered:
        p = f["properties"]
        writer.writerow([p["id"], p["image"], p["mask"], p["pre"] or "", p["crs"], p["row_off"],
                         p["col_off"], *p["bounds"], *p["lonlat_bounds"], p["valid_fraction"],
                         p["landslide_pixels"],
                         " ".join(str(r["landslide_id"]) for r in p["reviews"]),
                         " ".join(r["verdict"] for r in p["reviews"]),
                         p["source"]["date"]])  # fmt: skip
    write_text_atomic(out / "index.csv", buf.getvalue())
