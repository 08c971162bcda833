"""Build L4S-format patches from a georeferenced scene and landslide labels.

The scene (one GeoTIFF/VRT, or several files mosaicked) is cut into ``size``×``size``
windows every ``stride`` pixels, read window by window. Edges are **padded**: where the
last window of a row or column would pass the scene's edge it is still read, the pixels
outside the scene count as invalid like nodata/NaN pixels, and a window is kept only when
its valid fraction reaches ``min_valid_fraction``. A pixel is invalid when it is outside
the scene, nodata, NaN/inf, or (for scenes that declare no nodata) 0 in every band, which
is Sentinel-2's no-data value. Invalid pixels are written as 0 (image) and 0 (mask), so no
file holds NaN.

Output (written into ``OUT.tmp-*`` and renamed to ``OUT`` when complete)::

    OUT/img/image_N.h5    img: size×size×C float32, L4S band order, ``bands`` attribute if C≠14
    OUT/mask/mask_N.h5    mask: size×size uint8 0/1 (only with labels)
    OUT/index.geojson     one feature per patch (see :mod:`slidewatch.data.patch_index`)
    OUT/index.csv
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.errors

from slidewatch.atomic import atomic_folder
from slidewatch.bands import SCALES
from slidewatch.data.labels import VECTOR_SUFFIXES, open_labels
from slidewatch.data.patch_index import (
    PatchRecord,
    select_windows,
    write_index,
)
from slidewatch.data.patch_windows import Plan, Tally, write_all
from slidewatch.errors import ConfigError, DatasetError, RasterError
from slidewatch.scene import (
    RASTER_SUFFIXES,
    Scene,
    SceneReader,
    expand_folders,
    open_scene,
)

PathArg = str | os.PathLike[str]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_patches` wrote."""

    out: Path
    """The output folder (``img/``, ``mask/``, ``index.geojson``, ``index.csv``)."""
    patch_ids: tuple[str, ...]
    """Image stems written, e.g. ``("image_1", "image_2")``."""
    bands: tuple[str, ...]
    """Bands of every patch, in L4S order."""
    scale: str
    """Scaling applied: ``l4s`` (raw values divided by the L4S vector) or ``none``."""
    crs: str
    """The scene's CRS."""
    size: int
    """Patch side in pixels."""
    stride: int
    """Step between patch origins in pixels."""
    skipped: int
    """Candidate windows not written (too few valid pixels, or past ``max_patches``)."""
    landslide_pixels: int | None
    """Landslide pixels over all masks, or None without labels."""
    index: Path
    """The ``index.geojson`` file."""
    skipped_empty: int = 0
    """Skipped windows without any valid pixel: outside the scene's data (mosaic gaps,
    nodata, Sentinel-2 fill)."""
    skipped_sparse: int = 0
    """Skipped windows with some valid pixels, fewer than ``min_valid_fraction``."""
    skipped_landslide_pixels: int | None = None
    """Landslide pixels the labels hold inside the skipped windows (a pixel shared by
    overlapping windows counts once per window), or None without labels."""

    @property
    def n_patches(self) -> int:
        """Number of patches written."""
        return len(self.patch_ids)


def _check_options(size: int, stride: int, min_valid_fraction: float, scale: str | None) -> None:
    if size < 1 or stride < 1:
        raise ConfigError(f"size {size} and stride {stride} must be positive; e.g. --size 128")
    if not 0.0 <= min_valid_fraction <= 1.0:
        raise ConfigError(f"min valid fraction {min_valid_fraction} is not in [0, 1]; e.g. 0.9")
    if scale not in (*SCALES, "auto", None):
        raise ConfigError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}, auto")


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is a file; choose a folder for --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DatasetError(f"{out} exists and is not empty; choose another --out or --overwrite")


def _as_paths(value: PathArg | Sequence[PathArg] | None) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(v) for v in value]


def build_patches(
    scene: PathArg | Sequence[PathArg],
    labels: PathArg | Sequence[PathArg] | None,
    out: PathArg,
    *,
    size: int = 128,
    stride: int | None = None,
    band_order: str | Sequence[str] | None = None,
    scale: str | None = None,
    landslide_value: int | None = None,
    reproject_labels: bool = False,
    rois: Sequence[Any] | None = None,
    roi_crs: Any = "EPSG:4326",
    min_valid_fraction: float = 0.9,
    overwrite: bool = False,
    max_patches: int | None = None,
    progress: bool = True,
) -> BuildResult:
    """Cut a georeferenced scene (and labels) into L4S patches under ``out``.

    ``scene``/``labels``: one path or several (mosaicked; a folder stands for its raster
    files, or for labels also its polygon files). Labels are a class raster on the
    scene's grid (``landslide_value`` = landslide; None: the labels must hold only 0
    and 1, else a DatasetError lists their values) or polygon files (every polygon a
    landslide); without labels only images are written. A label raster on another grid is
    an error unless ``reproject_labels`` (nearest-neighbour onto the scene grid).
    ``band_order`` names the L4S band of each scene band when the file's descriptions do
    not. ``scale``: ``l4s``, ``none`` or None (auto: ``l4s`` when band medians look raw).
    ``rois``: shapely geometries (points, boxes) in ``roi_crs`` (``"scene"`` for the scene's
    CRS); only windows touching one are kept. ``out`` must be absent or empty unless
    ``overwrite``. ``max_patches`` stops after that many patches.
    """
    stride = stride or size
    _check_options(size, stride, min_valid_fraction, scale)
    out = Path(out)
    _check_out(out, overwrite)
    try:
        with atomic_folder(out) as tmp:
            opts = {
                "band_order": band_order, "scale": scale, "size": size, "stride": stride,
                "min_valid_fraction": min_valid_fraction, "rois": rois, "roi_crs": roi_crs,
                "landslide_value": landslide_value, "reproject_labels": reproject_labels,
                "max_patches": max_patches, "progress": progress,
            }  # fmt: skip
            scenes = expand_folders(_as_paths(scene))
            labels_in = expand_folders(_as_paths(labels), (*RASTER_SUFFIXES, *VECTOR_SUFFIXES))
            result = _build_into(tmp, out, scenes, labels_in, opts)
    except rasterio.errors.RasterioError as exc:
        names = ", ".join(map(str, _as_paths(scene) + _as_paths(labels)))
        raise RasterError(
            f"{names}: read failed ({exc.__cause__ or exc}); a file may be truncated or "
            "corrupt, re-export it"
        ) from exc
    return result


def _build_into(
    tmp: Path, out: Path, scenes: list[Path], label_paths: list[Path], opts: dict[str, Any]
) -> BuildResult:
    scale = None if opts["scale"] in (None, "auto") else opts["scale"]
    scene = open_scene(scenes, None, band_order=opts["band_order"] or None, scale=scale)
    plan = Plan(opts["size"], opts["min_valid_fraction"], opts["max_patches"])
    windows = select_windows(scene, plan.size, opts["stride"], opts["rois"], opts["roi_crs"])
    label_ctx = (
        open_labels(label_paths, scene, None, opts["landslide_value"], opts["reproject_labels"])
        if label_paths
        else contextlib.nullcontext(None)
    )
    # float64 reads, divided by the L4S vector in float64, then stored as float32.
    with label_ctx as read_labels, SceneReader(scene, dtype=np.float64) as reader:
        records, tally = write_all(reader, read_labels, plan, windows, tmp, opts["progress"])
    if not records:
        raise DatasetError(
            f"no patch of {len(windows)} candidate windows in {', '.join(map(str, scenes))} "
            f"was kept ({tally.explain(plan.min_valid_fraction)}; or none touched the ROIs); "
            "lower --min-valid-fraction, check the scene's nodata, or widen the regions of "
            "interest"
        )
    return _result(scene, out, tmp, records, tally, plan, opts, bool(label_paths), scenes)


def _result(
    scene: Scene,
    out: Path,
    tmp: Path,
    records: list[PatchRecord],
    tally: Tally,
    plan: Plan,
    opts: dict[str, Any],
    labeled: bool,
    scenes: list[Path],
) -> BuildResult:
    scale = "l4s" if scene.to_l4s else "none"
    meta = {"bands": list(scene.bands), "scale": scale, "size": plan.size,
            "stride": opts["stride"], "scenes": [str(s) for s in scenes]}  # fmt: skip
    index = write_index(tmp, records, scene.crs, meta)
    pixels = [r.landslide_pixels for r in records]
    return BuildResult(
        out=out,
        patch_ids=tuple(r.id for r in records),
        bands=scene.bands,
        scale=scale,
        crs=scene.crs.to_string(),
        size=plan.size,
        stride=opts["stride"],
        skipped=tally.empty + tally.sparse + tally.past_max,
        landslide_pixels=None if not labeled else int(sum(p or 0 for p in pixels)),
        index=out / index.name,
        skipped_empty=tally.empty,
        skipped_sparse=tally.sparse,
        skipped_landslide_pixels=tally.skipped_landslide if labeled else None,
    )
