"""``slidewatch detect``: landslide maps (COGs, polygons, summary, quicklook) for a scene."""

from __future__ import annotations

from pathlib import Path

import click

from slidewatch.cli.contract import contract_warnings_shown, strict_option
from slidewatch.cli.options import band_order_option, device_option, engine_option, scale_option
from slidewatch.inference.detection import DetectOptions

DEFAULTS = DetectOptions()
"""The library's defaults, shown by ``--help``."""

_DETECT_HELP = """Detect landslides over SCENE with the model in MODEL_DIR, writing to OUT_DIR.

SCENE is one georeferenced raster (GeoTIFF, VRT; any CRS) holding the model's bands, matched
by band descriptions (B4, B04, red, slope...) or --band-order; several band files, resampled
onto the grid of the finest one; or tiles (files or a folder, as for build-patches)
mosaicked into one scene. Outputs, on the scene's grid: probability.tif (COG, float32 0-1;
-1 = no data) and landslides.tif (COG, uint8 0/1; 255 = no data), both declaring their
no-data value; landslides.geojson, summary.json, quicklook.png. The scene's values are
checked against the model's training data first (see --strict).
"""


@click.command(help=_DETECT_HELP)
@click.argument("scene", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Model directory (model.json + model.safetensors), or an ONNX file written by "
    "`slidewatch export` (runs with the onnx engine, no torch needed).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created; existing outputs are replaced).",
)
@band_order_option
@scale_option
@click.option(
    "--tile-px",
    "tile",
    type=click.IntRange(min=16),
    default=None,
    help="Window side in pixels.  [default: the model's patch size]",
)
@click.option(
    "--overlap-px",
    "overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Overlap between neighbouring windows in pixels.  [default: a quarter of the tile]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULTS.batch_size,
    show_default=True,
    help="Windows per forward pass.",
)
@device_option()
@engine_option
@click.option(
    "--min-area-m2",
    type=click.FloatRange(min=0),
    default=DEFAULTS.min_area_m2,
    show_default=True,
    help="Drop landslide polygons smaller than this area (m², local UTM). The default drops "
    "one- and two-pixel specks of 10 m imagery (100 and 200 m²) and keeps three pixels and "
    "more; 0 keeps everything. The dropped count and area are reported.",
)
@click.option(
    "--dask-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run on a local Dask cluster of this many worker processes.",
)
@click.option(
    "--dask-address",
    default=None,
    help="Run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786.",
)
@click.option(
    "--panel-px",
    type=click.IntRange(min=256),
    default=None,
    help="Columns processed at once; lower it to cut memory on very wide scenes. The "
    "outputs do not depend on it.  [default: 4096]",
)
@click.option("--gpkg", is_flag=True, help="Also write landslides.gpkg (needs fiona).")
@strict_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@contract_warnings_shown()
def detect(
    scene: tuple[Path, ...],
    model_dir: Path,
    out_dir: Path,
    band_order: str | None,
    scale: str,
    tile: int | None,
    overlap: int | None,
    batch_size: int,
    device: str,
    engine: str,
    min_area_m2: float,
    dask_workers: int | None,
    dask_address: str | None,
    panel_px: int | None,
    gpkg: bool,
    strict: bool,
    quiet: bool,
) -> None:
    from slidewatch.inference.detect import detect as run_detect

    options = DetectOptions(
        tile_px=tile, overlap_px=overlap, batch_size=batch_size, device=device, engine=engine,
        band_order=band_order, scale=None if scale == "auto" else scale,
        min_area_m2=min_area_m2, dask_workers=dask_workers, dask_address=dask_address,
        gpkg=gpkg, panel_px=panel_px, strict=strict,
    )  # fmt: skip
    summary = run_detect(list(scene), model_dir, out_dir, options, progress=not quiet)
    dropped = summary.dropped_polygons
    click.echo(
        f"{summary.polygon_count} landslide polygons, "
        f"{summary.landslide_area_km2:.4f} km² of {summary.scene_area_km2:.2f} km² "
        f"scene ({dropped.count} smaller than {dropped.min_area_m2:g} m² dropped, "
        f"{dropped.area_m2 / 1e6:.4f} km²); outputs in {out_dir}"
    )
    if not summary.data_contract["ok"]:
        click.secho(
            f"Warning: {len(summary.data_contract['warnings'])} data-contract warning(s) "
            f"above, also in {out_dir / 'summary.json'}; check the results",
            fg="yellow",
            err=True,
        )
