"""``detect``: a scene and a model directory in, COGs, polygons, a summary and a quicklook out.

Stages: open the scene (match bands, decide scaling) -> stream windows through the model,
blend, and write block by block into tiled GeoTIFFs (temporary names) -> COGs ->
polygons -> quicklook -> ``summary.json`` (written last: its presence marks a complete run).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from tqdm.auto import tqdm

from slidewatch.atomic import write_text_atomic
from slidewatch.errors import ConfigError, RasterError
from slidewatch.inference import panels
from slidewatch.inference.blending import window_weights
from slidewatch.inference.cog import (
    PARTIAL_SUFFIX,
    open_tiled,
    partial_path,
    remove_partials,
    write_cog,
)
from slidewatch.inference.engine import DEVICES as DEVICES
from slidewatch.inference.engine import Engine, available_cores, load_engine
from slidewatch.inference.engine import resolve_device as resolve_device
from slidewatch.inference.fill import make_filler
from slidewatch.inference.polygons import (
    landslide_polygons,
    pixel_area_m2,
    write_geojson,
    write_gpkg,
)
from slidewatch.inference.quicklook import write_quicklook
from slidewatch.inference.scene import Scene, SceneReader, open_scene
from slidewatch.inference.windows import WindowGrid, window_grid

PROBABILITY_NODATA = -1.0
"""Nodata value of ``probability.tif`` (float32)."""
LANDSLIDE_NODATA = 255
"""Nodata value of ``landslides.tif``: 'cannot see'."""
GDAL_CACHE_MIN_BYTES = 64 * 2**20
"""Lower bound of GDAL's block cache during a run (its default, 5% of RAM, would let the
cache grow with the scene up to gigabytes)."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_not_empty(scene: Scene) -> None:
    with SceneReader(scene) as reader:
        if reader.read_samples()[1].any() or reader.any_valid():
            return
    names = ", ".join(map(str, scene.paths))
    raise RasterError(
        f"{names}: the scene holds no valid pixels (all nodata); pass a "
        "scene with data or fix its nodata value"
    )


def gdal_cache_bytes(scene: Scene, panel_px: int) -> int:
    """GDAL's block cache: enough for a strip of one panel's input blocks, not the scene."""
    strip = len(scene.bands) * 512 * min(scene.width, panel_px + 512) * 4
    return max(GDAL_CACHE_MIN_BYTES, strip)


def _blocks(
    scene: Scene,
    model_dir: Path,
    grid: WindowGrid,
    batch_size: int,
    client: Any,
    engine: Engine,
    panel_px: int,
) -> Iterator[panels.PanelBlock]:
    if client is not None:
        from slidewatch.inference.distributed import EngineKey, predict_rows_dask

        key = EngineKey(str(model_dir), engine.name, getattr(engine, "device", "cpu"))
        yield from predict_rows_dask(client, scene, key, grid, batch_size, panel_px)
        return
    weights = window_weights(grid.tile)
    fill = make_filler(engine.spec)
    with SceneReader(scene) as reader:
        for panel in panels.column_panels(grid, panel_px):
            yield from panels.predict_panel(
                reader, engine.predict, grid, weights, panel, batch_size=batch_size, fill=fill
            )


def _write_rasters(
    blocks: Iterator[panels.PanelBlock],
    scene: Scene,
    out: Path,
    threshold: float,
    pixel_km2: float,
    progress: bool,
) -> dict[str, int]:
    """Write the streamed rows into the temporary tiled rasters; return pixel counts."""
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
            landslide = (probability >= threshold).astype(np.uint8)
            landslide[~valid] = LANDSLIDE_NODATA
            probability = np.where(valid, probability, PROBABILITY_NODATA).astype(np.float32)
            window = ((row, row + probability.shape[0]), (col, col + probability.shape[1]))
            prob.write(probability, 1, window=window)
            cls.write(landslide, 1, window=window)
            counts["valid"] += int(valid.sum())
            counts["landslide"] += int((landslide == 1).sum())
            bar.update(round(probability.size * pixel_km2, 6))
    return counts


def _model_summary(model_dir: Path, spec: Any) -> dict[str, Any]:
    return {
        "path": str(model_dir),
        "architecture": spec.architecture,
        "bands": list(spec.bands),
        "threshold": spec.threshold,
        "patch_size": spec.patch_size,
    }


def _make_client(dask_workers: int | None, dask_address: str | None) -> Any:
    if dask_workers is None and dask_address is None:
        return None
    if dask_workers is not None and dask_workers < 1:
        raise ConfigError(f"--dask-workers {dask_workers} must be at least 1")
    from slidewatch.inference.distributed import local_client

    return local_client(dask_workers, dask_address)


def detect(
    scene: str | Path | Sequence[str | Path],
    model_dir: str | Path,
    out_dir: str | Path,
    *,
    tile: int = 256,
    overlap: int = 64,
    batch_size: int = 8,
    device: str = "cpu",
    engine: str = "auto",
    band_order: Sequence[str] | str | None = None,
    scale: str | None = None,
    min_area_m2: float = 0.0,
    dask_workers: int | None = None,
    dask_address: str | None = None,
    gpkg: bool = False,
    progress: bool = True,
    grid_offset: tuple[int, int] = (0, 0),
    panel_px: int | None = None,
) -> dict[str, Any]:
    """Detect landslides over ``scene`` with the model in ``model_dir``; write to ``out_dir``.

    ``scene`` is one raster or a list of single-band rasters. Outputs: ``probability.tif``,
    ``landslides.tif`` (COGs on the scene's grid), ``landslides.geojson`` (+ ``.gpkg`` with
    ``gpkg=True``), ``quicklook.png`` and ``summary.json``; returns the summary.
    In the summary, ``scene_area_km2`` counts valid pixels only and ``landslide_area_km2``
    sums the polygons kept (at least ``min_area_m2``), both measured in local UTM.
    ``grid_offset`` shifts the window grid (for experiments; outputs barely change).
    ``panel_px`` caps the columns processed at once (default :data:`panels.PANEL_PX`); the
    outputs do not depend on it, memory does.
    """
    start = time.perf_counter()
    paths = [Path(scene)] if isinstance(scene, str | Path) else [Path(p) for p in scene]
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size} must be at least 1")
    loaded = load_engine(model_dir, engine, device, threads=_engine_threads(dask_workers))
    spec = loaded.spec
    panel_px = panels.PANEL_PX if panel_px is None else panel_px
    if panel_px < 1:
        raise ConfigError(f"panel width {panel_px} must be at least 1 pixel")
    opened = open_scene(paths, spec.bands, band_order=band_order, scale=scale)
    options: dict[str, Any] = {
        "tile": tile,
        "overlap": overlap,
        "batch_size": batch_size,
        "device": getattr(loaded, "device", "cpu"),
        "engine": loaded.name,
        "dask_workers": dask_workers,
        "dask_address": dask_address,
        "grid_offset": list(grid_offset),
        "panel_px": panel_px,
        "min_area_m2": min_area_m2,
        "gpkg": gpkg,
    }
    out = Path(out_dir)
    try:
        with rasterio.Env(GDAL_CACHEMAX=gdal_cache_bytes(opened, panel_px)):
            return _run(opened, loaded, Path(model_dir), out, options, progress, start)
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
    options: dict[str, Any],
    progress: bool,
    start: float,
) -> dict[str, Any]:
    """Check, predict block by block into temporary rasters, then finish the outputs."""
    spec = engine.spec
    _check_not_empty(scene)
    grid = window_grid(
        scene.height,
        scene.width,
        options["tile"],
        options["overlap"],
        tuple(options["grid_offset"]),
    )
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    pixel_m2 = pixel_area_m2(scene.crs, scene.transform, scene.height, scene.width)
    timings = {"open": time.perf_counter() - start}

    t = time.perf_counter()
    client = _make_client(options["dask_workers"], options["dask_address"])
    try:
        blocks = _blocks(
            scene, model_dir, grid, options["batch_size"], client, engine, options["panel_px"]
        )
        counts = _write_rasters(blocks, scene, out, spec.threshold, pixel_m2 / 1e6, progress)
    finally:
        if client is not None:
            from slidewatch.inference.distributed import close_client

            close_client(client)
    timings["predict"] = time.perf_counter() - t
    return _finish(scene, out, grid, spec, model_dir, counts, pixel_m2, timings, options)


def _finish(
    scene: Scene,
    out: Path,
    grid: WindowGrid,
    spec: Any,
    model_dir: Path,
    counts: dict[str, int],
    pixel_m2: float,
    timings: dict[str, float],
    options: dict[str, Any],
) -> dict[str, Any]:
    """COGs, polygons, quicklook and the summary from the temporary rasters."""
    t = time.perf_counter()
    for name in ("probability", "landslides"):
        raw = partial_path(out / f"{name}.raw.tif")
        write_cog(raw, out / f"{name}.tif", "average" if name == "probability" else "nearest")
        raw.unlink()
    timings["cog"] = time.perf_counter() - t

    t = time.perf_counter()
    features = landslide_polygons(
        out / "landslides.tif", out / "probability.tif", options["min_area_m2"]
    )
    write_geojson(features, out / "landslides.geojson", scene.crs)
    if options["gpkg"]:
        write_gpkg(features, out / "landslides.gpkg")
    timings["polygons"] = time.perf_counter() - t

    t = time.perf_counter()
    with SceneReader(scene) as reader:
        write_quicklook(reader, out / "landslides.tif", out / "quicklook.png")
    timings["quicklook"] = time.perf_counter() - t

    t = time.perf_counter()
    checksums = {str(p): file_sha256(p) for p in scene.paths}
    timings["checksum"] = time.perf_counter() - t
    summary = {
        "landslide_area_km2": sum(f["properties"]["area_m2"] for f in features) / 1e6,
        "polygon_count": len(features),
        "landslide_pixels": counts["landslide"],
        "scene_area_km2": counts["valid"] * pixel_m2 / 1e6,
        "scene": {
            "paths": [str(p) for p in scene.paths],
            "crs": scene.crs.to_string(),
            "width": scene.width,
            "height": scene.height,
            "transform": list(scene.transform)[:6],
            "bands": list(scene.bands),
            "scaled_to_l4s": scene.to_l4s,
            "windows": len(grid),
        },
        "input_sha256": checksums,
        "model": _model_summary(model_dir, spec),
        "options": options,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "outputs": sorted(
            {p.name for p in out.iterdir() if not p.name.startswith(".")} | {"summary.json"}
        ),
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n", PARTIAL_SUFFIX)
    return summary
