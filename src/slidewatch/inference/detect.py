"""``detect``: a scene and a model directory in, COGs, polygons, a summary and a quicklook out.

Stages: open the scene (match bands, decide scaling) -> stream windows through the model,
blend, and write block by block into tiled GeoTIFFs (temporary names) -> COGs ->
polygons -> quicklook -> ``summary.json`` (written last: its presence marks a complete run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio

from slidewatch.atomic import write_text_atomic
from slidewatch.digest import file_sha256
from slidewatch.errors import RasterError
from slidewatch.inference import panels
from slidewatch.inference.blending import window_weights
from slidewatch.inference.cog import (
    PARTIAL_SUFFIX,
    open_tiled,
    partial_path,
    remove_partials,
    write_cog,
)
from slidewatch.inference.contract import check_scene
from slidewatch.inference.detection import (
    DetectionSummary,
    DetectOptions,
    DroppedPolygons,
    ModelRecord,
    SceneRecord,
)
from slidewatch.inference.engine import Engine, available_cores, load_engine
from slidewatch.inference.fill import make_filler
from slidewatch.inference.windows import WindowGrid, window_grid
from slidewatch.scene import Scene, SceneReader, open_scene
from slidewatch.threshold import is_landslide

if TYPE_CHECKING:
    from slidewatch.inference.polygons import Polygons
    from slidewatch.models.modelfile import ModelSpec

PROBABILITY_NODATA = -1.0
"""Nodata value of ``probability.tif`` (float32, valid values 0-1): -1, outside the range of
probabilities. Two values because each suits its type; both are declared in the files."""
LANDSLIDE_NODATA = 255
"""Nodata value of ``landslides.tif`` (uint8, valid values 0 and 1): 'cannot see'."""
GDAL_CACHE_MIN_BYTES = 64 * 2**20
"""Lower bound of GDAL's block cache during a run (its default, 5% of RAM, would let the
cache grow with the scene up to gigabytes)."""


def _check_not_empty(scene: Scene) -> None:
    with SceneReader(scene) as reader:
        if reader.read_samples()[1].any() or reader.any_valid():
            return
    names = ", ".join(map(str, scene.paths))
    raise RasterError(
        f"{names}: the scene holds no valid pixels (all nodata); pass a "
        "scene with data or fix its nodata value"
    )


def gdal_cache_bytes(scene: Scene, panel_px: int | None = None) -> int:
    """GDAL's block cache: enough for a strip of one panel's input blocks, not the scene."""
    panel_px = panels.PANEL_PX if panel_px is None else panel_px
    strip = len(scene.bands) * 512 * min(scene.width, panel_px + 512) * 4
    return max(GDAL_CACHE_MIN_BYTES, strip)


def _blocks(
    scene: Scene,
    model_dir: Path,
    grid: WindowGrid,
    options: DetectOptions,
    client: Any,
    engine: Engine,
) -> Iterator[panels.PanelBlock]:
    if client is not None:
        from slidewatch.inference.distributed import EngineKey, predict_rows_dask

        key = EngineKey(str(model_dir), engine.name, getattr(engine, "device", "cpu"))
        yield from predict_rows_dask(client, scene, key, grid, options.batch_size, options.panel_px)
        return
    weights = window_weights(grid.tile)
    fill = make_filler(engine.spec)
    with SceneReader(scene) as reader:
        for panel in panels.column_panels(grid, options.panel_px):
            yield from panels.predict_panel(
                reader, engine.predict, grid, weights, panel,
                batch_size=options.batch_size, fill=fill,
            )  # fmt: skip


def _write_rasters(
    blocks: Iterator[panels.PanelBlock],
    scene: Scene,
    out: Path,
    threshold: float,
    pixel_km2: float,
    progress: bool,
) -> dict[str, int]:
    """Write the streamed rows into the temporary tiled rasters; return pixel counts."""
    from tqdm.auto import tqdm  # lazily: it probes for notebooks (~0.1 s) before any window

    counts = {"valid": 0, "landslide": 0}
    total_km2 = scene.height * scene.width * pixel_km2
    with ExitStack() as stack:
        prob = stack.enter_context(
            open_tiled(
                partial_path(out / "probability.raw.tif"), scene, "float32", PROBABILITY_NODATA
            )
        )
        cls = stack.enter_context(
            open_tiled(partial_path(out / "landslides.raw.tif"), scene, "uint8", LANDSLIDE_NODATA)
        )
        bar = stack.enter_context(
            tqdm(
                total=round(total_km2, 3),
                unit="km²",
                disable=not progress or None,
                desc="detect",
                unit_scale=True,
            )
        )
        for row, col, probability, valid in blocks:
            landslide = is_landslide(probability, threshold).astype(np.uint8)
            landslide[~valid] = LANDSLIDE_NODATA
            probability = np.where(valid, probability, PROBABILITY_NODATA).astype(np.float32)
            window = ((row, row + probability.shape[0]), (col, col + probability.shape[1]))
            prob.write(probability, 1, window=window)
            cls.write(landslide, 1, window=window)
            counts["valid"] += int(valid.sum())
            counts["landslide"] += int((landslide == 1).sum())
            bar.update(round(probability.size * pixel_km2, 6))
    return counts


def _model_label(model_dir: Path) -> str:
    """``RUN/model`` for a run's model folder, else the folder's name."""
    path = Path(model_dir).resolve()
    return f"{path.parent.name}/{path.name}" if path.name == "model" else path.name


def detect(
    scene: str | Path | Sequence[str | Path],
    model_dir: str | Path,
    out_dir: str | Path,
    options: DetectOptions | None = None,
    *,
    progress: bool = True,
) -> DetectionSummary:
    """Detect landslides over ``scene`` with the model in ``model_dir``; write to ``out_dir``.

    ``scene`` is one raster or a list of single-band rasters. Outputs: ``probability.tif``
    (no data -1) and ``landslides.tif`` (no data 255), COGs on the scene's grid,
    ``landslides.geojson`` (+ ``.gpkg`` with ``options.gpkg``), ``quicklook.png`` and
    ``summary.json``; returns the summary. What ``options`` leave open (the window, its
    overlap, the engine) is decided by the model (:meth:`DetectOptions.for_model`).
    In the summary, ``scene_area_km2`` counts valid pixels only and ``landslide_area_km2``
    sums the polygons kept (at least ``options.min_area_m2``: one- and two-pixel specks of
    10 m imagery are dropped by default), both measured in local UTM; ``dropped_polygons``
    counts the regions dropped and their area. ``options.panel_px`` caps the columns
    processed at once; the outputs do not depend on it, memory does.
    The scene's sampled values are checked against the model's training data
    (:mod:`slidewatch.inference.contract`): a mismatch warns (``DataContractWarning``) and
    is listed under ``data_contract`` in the summary; ``options.strict`` raises instead.
    """
    start = time.perf_counter()
    paths = [Path(scene)] if isinstance(scene, str | Path) else [Path(p) for p in scene]
    options = options or DetectOptions()
    options.check()
    loaded = load_engine(
        model_dir, options.engine, options.device, threads=_engine_threads(options.dask_workers)
    )
    spec = loaded.spec
    options = replace(
        options.for_model(spec), device=getattr(loaded, "device", "cpu"), engine=loaded.name
    )
    opened = open_scene(paths, spec.bands, band_order=options.band_order, scale=options.scale)
    contract = check_scene(opened, spec, options.strict)
    out = Path(out_dir)
    try:
        with rasterio.Env(GDAL_CACHEMAX=gdal_cache_bytes(opened, options.panel_px)):
            return _run(opened, loaded, Path(model_dir), out, options, progress, start, contract)
    except BaseException:
        if out.is_dir():  # a failed run leaves no temporary files behind (finals untouched)
            remove_partials(out)
        raise


def _engine_threads(dask_workers: int | None) -> int | None:
    """Cores for the engine: all of them, or (with local Dask workers) this process's share."""
    return max(1, available_cores() // dask_workers) if dask_workers else None


def _run(
    scene: Scene,
    engine: Engine,
    model_dir: Path,
    out: Path,
    options: DetectOptions,
    progress: bool,
    start: float,
    contract: dict[str, Any],
) -> DetectionSummary:
    """Check, predict block by block into temporary rasters, then finish the outputs."""
    from slidewatch.inference.polygons import pixel_area_m2  # shapely: not before it is needed

    _check_not_empty(scene)
    grid = window_grid(scene.height, scene.width, *options.window, options.grid_offset)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    pixel_m2 = pixel_area_m2(scene.crs, scene.transform, scene.height, scene.width)
    timings = {"open": time.perf_counter() - start}

    t = time.perf_counter()
    with ExitStack() as stack:
        client = None
        if options.dask_workers is not None or options.dask_address is not None:
            from slidewatch.cluster import dask_client

            client = stack.enter_context(dask_client(options.dask_workers, options.dask_address))
        blocks = _blocks(scene, model_dir, grid, options, client, engine)
        counts = _write_rasters(blocks, scene, out, engine.spec.threshold, pixel_m2 / 1e6, progress)
    timings["predict"] = time.perf_counter() - t
    kept = _finish(scene, out, engine.spec, model_dir, options, timings, progress)
    t = time.perf_counter()
    checksums = {str(p): file_sha256(p) for p in scene.paths}
    timings["checksum"] = time.perf_counter() - t
    summary = DetectionSummary(
        landslide_area_km2=sum(f["properties"]["area_m2"] for f in kept.features) / 1e6,
        polygon_count=len(kept.features),
        dropped_polygons=DroppedPolygons(
            kept.dropped_count, round(kept.dropped_area_m2, 2), options.min_area_m2
        ),
        landslide_pixels=counts["landslide"],
        scene_area_km2=counts["valid"] * pixel_m2 / 1e6,
        scene=SceneRecord.of(scene, windows=len(grid)),
        input_sha256=checksums,
        model=ModelRecord.of(model_dir, engine.spec),
        data_contract=contract,
        options=options,
        timings_s={k: round(v, 3) for k, v in timings.items()},
        outputs=tuple(
            sorted({p.name for p in out.iterdir() if not p.name.startswith(".")} | {"summary.json"})
        ),
    )
    text = json.dumps(summary.to_dict(), indent=2) + "\n"
    write_text_atomic(out / "summary.json", text, PARTIAL_SUFFIX)
    return summary


def _finish(
    scene: Scene,
    out: Path,
    spec: ModelSpec,
    model_dir: Path,
    options: DetectOptions,
    timings: dict[str, float],
    progress: bool,
) -> Polygons:
    """COGs, polygons and quicklook from the temporary rasters; the polygons kept."""
    from tqdm.auto import tqdm

    from slidewatch.inference.polygons import find_polygons, write_geojson, write_gpkg
    from slidewatch.inference.quicklook import write_quicklook

    t = time.perf_counter()
    names = ("probability", "landslides")
    # GDAL's COG driver reports no progress through rasterio: one step per raster
    for name in tqdm(names, desc="COGs", unit="raster", disable=not progress or None):
        raw = partial_path(out / f"{name}.raw.tif")
        write_cog(raw, out / f"{name}.tif", "average" if name == "probability" else "nearest")
        raw.unlink()
    timings["cog"] = time.perf_counter() - t

    t = time.perf_counter()
    polygons = find_polygons(
        out / "landslides.tif", out / "probability.tif", options.min_area_m2, progress=progress
    )
    write_geojson(polygons.features, out / "landslides.geojson", scene.crs)
    if options.gpkg:
        write_gpkg(polygons.features, out / "landslides.gpkg")
    timings["polygons"] = time.perf_counter() - t

    t = time.perf_counter()
    with SceneReader(scene) as reader:
        write_quicklook(
            reader, out / "landslides.tif", out / "quicklook.png", threshold=spec.threshold,
            model_name=f"{spec.architecture} ({_model_label(model_dir)})",
        )  # fmt: skip
    timings["quicklook"] = time.perf_counter() - t
    return polygons
