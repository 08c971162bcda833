"""``slidewatch data build-patches``: cut a georeferenced scene and labels into L4S patches.

Imported lazily by the ``data`` group; rasterio and friends load only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import band_order_option, scale_option


def _numbers(text: str, count: int, option: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        raise click.BadParameter(
            f"{text!r} is not {count} comma-separated numbers", param_hint=option
        )
    return values


def _regions(points: tuple[str, ...], boxes: tuple[str, ...]) -> list[Any]:
    import shapely

    rois: list[Any] = [shapely.Point(*_numbers(p, 2, "--roi")) for p in points]
    for text in boxes:
        minx, miny, maxx, maxy = _numbers(text, 4, "--bbox")
        if minx >= maxx or miny >= maxy:
            raise click.BadParameter(
                f"{text!r} needs minx < maxx and miny < maxy", param_hint="--bbox"
            )
        rois.append(shapely.box(minx, miny, maxx, maxy))
    return rois


@click.command("build-patches")
@click.option(
    "--scene",
    "scenes",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Georeferenced multi-band GeoTIFF/VRT; repeat, or give a folder, to mosaic files.",
)
@click.option(
    "--labels",
    "labels",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Label raster on the scene's grid, or polygons (GeoJSON/GeoPackage; every polygon "
    "is a landslide); repeat, or give a folder, for several files. Without labels only "
    "images are written.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (img/, mask/, index.geojson, index.csv); must be empty.",
)
@click.option(
    "--size",
    default=128,
    show_default=True,
    type=click.IntRange(min=1),
    help="Patch side in pixels.",
)
@click.option(
    "--stride",
    default=None,
    type=click.IntRange(min=1),
    help="Step between patches in pixels [default: --size, no overlap].",
)
@click.option(
    "--roi",
    "points",
    multiple=True,
    metavar="X,Y",
    help="Keep patches containing this point (in --roi-crs); repeatable.",
)
@click.option(
    "--bbox",
    "boxes",
    multiple=True,
    metavar="MINX,MINY,MAXX,MAXY",
    help="Keep patches touching this box (in --roi-crs); repeatable.",
)
@click.option(
    "--roi-crs",
    default="EPSG:4326",
    show_default=True,
    help="CRS of --roi/--bbox: lon/lat by default, 'scene' for the scene's CRS.",
)
@click.option(
    "--min-valid-fraction",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Skip patches with fewer valid pixels: inside the scene, not nodata/NaN, and (when "
    "the scene declares no nodata) not 0 in every band. Edge patches are padded with 0.",
)
@band_order_option
@scale_option
@click.option(
    "--landslide-value",
    default=None,
    type=int,
    help="Label raster value meaning landslide; every other value is background. Needed "
    "when the labels hold other values than 0 and 1 [default: 1 for 0/1 labels].",
)
@click.option(
    "--reproject-labels",
    is_flag=True,
    help="Resample a label raster on another grid onto the scene's (nearest neighbour).",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def build_patches(scenes: tuple[Path, ...], labels: tuple[Path, ...], out: Path, size: int,
                  stride: int | None, points: tuple[str, ...], boxes: tuple[str, ...],
                  roi_crs: str, min_valid_fraction: float, band_order: str | None, scale: str,
                  landslide_value: int | None, reproject_labels: bool, overwrite: bool,
                  quiet: bool) -> None:  # fmt: skip
    """Cut a georeferenced scene (and labels) into L4S-format HDF5 patches plus an index.

    Example (the Chittagong tiles, mosaicked):

    \b
    slidewatch data build-patches --scene s2-chittagong/images --labels
    s2-chittagong/labels --band-order B4,B3,B2,B8 --landslide-value 2 --out patches/
    """
    from slidewatch.data.build import build_patches as build

    result = build(
        list(scenes), list(labels) or None, out, size=size, stride=stride,
        band_order=band_order, scale=None if scale == "auto" else scale,
        landslide_value=landslide_value, reproject_labels=reproject_labels,
        rois=_regions(points, boxes) or None,
        roi_crs=roi_crs, min_valid_fraction=min_valid_fraction, overwrite=overwrite,
        progress=not quiet,
    )  # fmt: skip
    if not quiet:
        click.echo(build_summary(result))


def build_summary(result: Any) -> str:
    """What was written and why windows were skipped, for a person."""
    pixels = "" if result.landslide_pixels is None else f", {result.landslide_pixels} landslide px"
    lines = [
        f"wrote {result.n_patches} patches ({','.join(result.bands)}, scale {result.scale}"
        f"{pixels}) to {result.out}; index {result.index}"
    ]
    if result.skipped:
        total = result.n_patches + result.skipped
        lost = (
            ""
            if result.skipped_landslide_pixels is None
            else f"; the skipped windows held {result.skipped_landslide_pixels} landslide px"
        )
        rest = result.skipped - result.skipped_empty - result.skipped_sparse
        lines.append(
            f"skipped {result.skipped} of {total} windows: {result.skipped_empty} with no valid "
            f"pixel (outside the scene's data, nodata or fill), {result.skipped_sparse} below "
            f"--min-valid-fraction"
            + (f", {rest} past the patch limit" if rest else "")
            + lost
            + ("; lower --min-valid-fraction to keep more" if result.skipped_sparse else "")
        )
    return "\n".join(lines)
