"""``slidewatch catalog build``: Sentinel-2 products and a DEM you already have, as a static
STAC catalogue that ``fetch`` and ``monitor add`` read with ``--stac-url``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

_BUILD_HELP = """Write a static STAC catalogue of PATHS into OUT (OUT/catalog.json).

PATHS: Sentinel-2 products as downloaded — .SAFE folders or their .zip (Copernicus Data
Space), L1C or L2A — or GeoTIFF band files (one band a file, e.g.
T18LTP_20230601T150000_B04_10m.tif); a folder is looked into for them. Items carry the
processing baseline, offsets and cloud cover from each product's own metadata, the SCL
asset of L2A, and point at the files where they are (nothing is copied). L2A products go
to collection sentinel-2-l2a, L1C to sentinel-2-l1c; --dem files to cop-dem-glo-30 (fetch's
defaults). Building into an existing catalogue adds to it.

Then: slidewatch fetch --stac-url file://OUT/catalog.json --aoi … --start … --end … --out stack.tif
"""


@click.group()
def catalog() -> None:
    """Catalogue imagery you already have for fetch and monitor."""


@catalog.command("build", help=_BUILD_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Catalogue folder (new, empty, or an existing catalogue to add to).",
)
@click.option(
    "--dem",
    "dems",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A DEM GeoTIFF covering the products (repeat for tiles).",
)
@click.option(
    "--dem-collection",
    default=None,
    metavar="NAME",
    help="Collection of the DEM [default: cop-dem-glo-30, fetch's default].",
)
@click.option(
    "--level",
    type=click.Choice(["auto", "l1c", "l2a"]),
    default="auto",
    show_default=True,
    help="GeoTIFF band files: the product level, when their names, an SCL file or "
    "a B10 file do not say.",
)
@click.option(
    "--datetime",
    "when",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="GeoTIFF band files: sensing time (UTC) when names and tags state none.",
)
@click.option(
    "--processing-baseline",
    default=None,
    metavar="NN.NN",
    help="GeoTIFF band files: the products' processing baseline when their names "
    "do not state it (needed from 2022-01-25: the +1000 offset).",
)
def build(paths: tuple[Path, ...], out: Path, dems: tuple[Path, ...], dem_collection: str | None,
          level: str, when: datetime | None, processing_baseline: str | None) -> None:  # fmt: skip
    from slidewatch.acquisition.catalog import GeoTiffOptions, build_catalog
    from slidewatch.acquisition.options import DEFAULT_DEM_COLLECTION

    options = GeoTiffOptions(level=level, datetime=when, processing_baseline=processing_baseline)
    result = build_catalog(
        paths, out, dems=dems, dem_collection=dem_collection or DEFAULT_DEM_COLLECTION,
        geotiff=options,
    )  # fmt: skip
    _report(result)


def _report(result: Any) -> None:
    for item in result.items:
        when = item.datetime.strftime("%Y-%m-%d %H:%M") if item.datetime else "elevation"
        facts = [when]
        if item.processing_baseline:
            facts.append(f"baseline {item.processing_baseline}")
        if item.offset_dn is not None:
            facts.append(f"offset {item.offset_dn:g} DN")
        if item.cloud_cover is not None:
            facts.append(f"cloud {item.cloud_cover:.1f}%")
        if "scl" in item.assets or "SCL" in item.assets:
            facts.append("SCL")
        verb = "replaced" if item.replaced else "added"
        click.echo(f"{verb} {item.collection}/{item.id} ({', '.join(facts)})")
        click.echo(f"  from {item.source}")
    counts = ", ".join(f"{name}: {n}" for name, n in sorted(result.collections.items()))
    click.echo(f"wrote {result.path} ({counts})")
    url = f"file://{result.path}"
    for name in sorted(result.collections):
        if name == result.dem_collection:
            continue
        collection = "" if name == "sentinel-2-l2a" else f" --collection {name}"
        dem = (
            ""
            if result.dem_collection in (None, "cop-dem-glo-30")
            else (f" --dem-collection {result.dem_collection}")
        )
        click.echo(f"  fetch: slidewatch fetch --stac-url {url}{collection}{dem} --aoi … "
                   "--start … --end … --out stack.tif")  # fmt: skip
    if result.dem_collection is None:
        click.echo(
            "Note: no DEM in the catalogue: fetch's slope and dem bands need one (--dem FILE.tif "
            "here), or fetch --bands without them",
            err=True,
        )
