"""Reviewed landslides → L4S training patches (``slidewatch monitor export-reviews``).

Each landslide whose verdict in force matches is cut from the archived stack of the
acquisition that last saw it: the 128 px windows of the stack's lattice (origins at
multiples of 128, as ``build-patches`` cuts) that cover its polygon, every band the stack has in L4S order and scale (a ``bands``
attribute when fewer than 14), the mask its polygon rasterised (``confirmed``) or all zero
(``rejected``: a hard negative; a window shows every confirmed polygon of the acquisition
it covers), pixels the acquisition did not see written 0 in image and
mask (the dataset's no-data rule, as ``build-patches``), windows seeing less than
:data:`MIN_VALID_FRACTION` skipped. The same window of the AOI's previous acquisition goes
to ``pre/`` (the labeler's before image) when the archive holds it. The folder's
``index.geojson``/``index.csv`` list every patch with its bounds, CRS and source, the
landslides it was cut for as ``groups`` (splits keep a landslide's windows together), the
``reviews`` (a model trained on the folder names them: its lineage).

Idempotent: a patch per window of an acquisition; a re-export writes what is new (and a
changed verdict's masks), and says what it wrote and skipped, and why. No torch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.application.settings import HomeSettings
from slidewatch.atomic import write_text_atomic
from slidewatch.data.hdf5 import write_image, write_mask
from slidewatch.data.patch_index import INDEX_GEOJSON, mask_id
from slidewatch.monitoring.kinds import Verdict
from slidewatch.monitoring.reviewed import ReviewedLandslide, Seen, reviewed_landslides

PATCH_PX = 128
MIN_VALID_FRACTION = 0.5
"""A window seeing less of the ground than this (cloud, outside the swath) is not written."""
PRE_DIR = "pre"


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


def windows_over(bounds_px: Sequence[float], size: int) -> list[tuple[int, int]]:
    """Origins (row, col) of the windows of the stack's ``size`` lattice (origins at
    multiples of ``size``, as ``build-patches`` cuts) that cover a pixel box (row0, col0,
    row1, col1): windows of one acquisition tile it and never partly overlap."""
    r0, c0, r1, c1 = bounds_px

    def starts(lo: float, hi: float) -> range:
        first = int(np.floor(lo / size)) * size
        return range(max(first, 0), max(int(np.ceil(hi)), first + 1), size)

    return [(r, c) for r in starts(r0, r1) for c in starts(c0, c1)]


def _pixel_box(ds: Any, geom: dict[str, Any]) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    x0, y0, x1, y1 = shape(geom).bounds
    inv = ~ds.transform
    (c0, r0), (c1, r1) = inv * (x0, y1), inv * (x1, y0)
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def _cut_all(ds: Any, pre: Any, slides: list[ReviewedLandslide], out: Path,
             features: dict[str, dict[str, Any]], tally: _Tally) -> None:  # fmt: skip
    from rasterio.warp import transform_geom

    geoms = {s.landslide_id: transform_geom("EPSG:4326", ds.crs, s.geometry) for s in slides}
    boxes = {k: _pixel_box(ds, g) for k, g in geoms.items()}
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
        feature = _write_window(ds, pre, (row, col), confirmed, inside, patch, out)
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


def _write_window(ds: Any, pre: Any, origin: tuple[int, int], confirmed: list[Any],
                  inside: list[ReviewedLandslide], patch: str,
                  out: Path) -> dict[str, Any] | None:  # fmt: skip
    """Image, mask (and pre image) of one window; its index feature (None: mostly unseen)."""
    from rasterio.features import rasterize
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from slidewatch.data.patch_index import patch_bounds
    from slidewatch.scene.windows import RasterWindows, read_padded

    row, col = origin
    image, valid = read_padded(RasterWindows(ds), row, col, PATCH_PX)
    if valid.mean() < MIN_VALID_FRACTION:
        return None
    mask = np.zeros((PATCH_PX, PATCH_PX), np.uint8)
    if confirmed:
        at = window_transform(Window(col, row, PATCH_PX, PATCH_PX), ds.transform)
        mask = rasterize(confirmed, (PATCH_PX, PATCH_PX), transform=at, dtype="uint8")
    mask[~valid] = 0
    bands = stack_bands(ds)
    write_image(out / "img" / f"{patch}.h5", np.moveaxis(image, 0, -1).astype(np.float32),
                bands)  # fmt: skip
    write_mask(out / "mask" / f"{mask_id(patch)}.h5", mask)
    box, lonlat = patch_bounds(ds.transform, ds.crs, np.array([row]), np.array([col]), PATCH_PX)
    has_pre = _write_pre(pre, ds, box[0], out / PRE_DIR / f"{patch}.h5", bands)
    return _feature(patch, inside, ds, origin, box[0], lonlat[0], float(valid.mean()),
                    int(mask.sum()), has_pre)  # fmt: skip


def stack_bands(ds: Any) -> list[str]:
    """The band names of an archived stack (fetch names every band)."""
    from slidewatch.bands import band_from_description
    from slidewatch.errors import RasterError

    names = [band_from_description(d) for d in ds.descriptions]
    if any(n is None for n in names):
        raise RasterError(f"{ds.name}: a band is not named by its description; fetch it again")
    return [str(n) for n in names]


def _write_pre(pre: Any, ds: Any, box: np.ndarray, path: Path, bands: list[str]) -> bool:
    """The same ground in the previous acquisition's stack (same grid CRS), if it saw it."""
    from slidewatch.scene.windows import RasterWindows, read_padded

    if pre is None or pre.crs != ds.crs:
        return False
    if stack_bands(pre) != bands:
        return False
    col, row = ~pre.transform * (float(box[0]), float(box[3]))
    image, valid = read_padded(RasterWindows(pre), round(row), round(col), PATCH_PX)
    if not valid.any():
        return False
    write_image(path, np.moveaxis(image, 0, -1).astype(np.float32), bands)
    return True


def _feature(patch: str, inside: list[ReviewedLandslide], ds: Any, origin: tuple[int, int],
             box: np.ndarray, lonlat: np.ndarray, valid: float, pixels: int,
             has_pre: bool) -> dict[str, Any]:  # fmt: skip
    def ring(b: Sequence[float] | np.ndarray) -> dict[str, Any]:
        x0, y0, x1, y1 = (float(v) for v in b)
        return {"type": "Polygon",
                "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}  # fmt: skip

    first = inside[0]
    seen, before = first.seen, first.before
    props = {
        "id": patch, "image": f"img/{patch}.h5", "mask": f"mask/{mask_id(patch)}.h5",
        "pre": f"{PRE_DIR}/{patch}.h5" if has_pre else None, "crs": ds.crs.to_string(),
        "row_off": origin[0], "col_off": origin[1], "bounds": [float(v) for v in box],
        "lonlat_bounds": [float(v) for v in lonlat], "scene_geometry": ring(box),
        "valid_fraction": round(valid, 6), "landslide_pixels": pixels,
        "groups": [],
        "reviews": [{"id": s.review_id, "aoi": s.aoi, "landslide_id": s.landslide_id,
                     "verdict": str(s.verdict), "reviewer": s.reviewer,
                     "reviewed_at": s.reviewed_at.isoformat(), "run_id": seen.run_id,
                     "acquisition": seen.key, "date": seen.date} for s in inside],
        "source": {"stack": seen.stack_url, "run_id": seen.run_id, "acquisition": seen.key,
                   "date": seen.date,
                   "pre": None if before is None or not has_pre else {
                       "stack": before.stack_url, "run_id": before.run_id,
                       "date": before.date}},
    }  # fmt: skip
    return {"type": "Feature", "id": patch, "geometry": ring(lonlat), "properties": props}


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
