"""``slidewatch fetch``: Sentinel-2 + elevation for an area and dates, as an L4S stack."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import aoi_option, source_options

_FETCH_HELP = """Fetch a detection-ready stack of the AOI from START to END into OUT (a GeoTIFF).

The stack is on a 10 m grid in the AOI's UTM zone, bands in L4S order with their names as
descriptions, values in the L4S scale, cloud/shadow/no-data pixels as nodata. Beside it:
NAME.mask.tif (why each pixel is or is not clear), NAME.json (a STAC item with the
provenance) and NAME.png (its picture: true colour, unseen ground grey, scene ids and
dates). `slidewatch detect OUT --model …` takes the stack as it is.
"""
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _command(ctx: click.Context) -> str:
    """The command as a reproducible line (option values as parsed)."""
    words = ["slidewatch", *ctx.command_path.split()[1:]]
    for name, value in ctx.params.items():
        if value is None or value == () or name == "aoi":
            continue
        flag = "--source" if name == "source_kind" else f"--{name.replace('_', '-')}"
        for item in value if isinstance(value, tuple) else (value,):
            text = item.date().isoformat() if isinstance(item, datetime) else str(item)
            words += [flag, shlex.quote(text)]
    aoi_text = ctx.meta.get("slidewatch.aoi_text")
    return " ".join(words + ([f"--aoi {shlex.quote(aoi_text)}"] if aoi_text else []))


def _remember_aoi(ctx: click.Context) -> None:
    # The AOI itself stands in for the text given (a file may change or move): its bounds
    # when it is a rectangle, else its GeoJSON.
    aoi = ctx.params.get("aoi")
    if aoi is None:
        return
    if aoi.geometry.equals(aoi.geometry.envelope):
        ctx.meta["slidewatch.aoi_text"] = ",".join(f"{v:.7f}" for v in aoi.bounds)
    else:
        ctx.meta["slidewatch.aoi_text"] = json.dumps(aoi.to_geojson(), separators=(",", ":"))


def _report(result: Any) -> None:
    height, width = result.shape
    click.echo(
        f"wrote {result.path} ({len(result.bands)} bands, {height}×{width} px, {result.crs})"
    )
    click.echo(
        f"  mask {result.mask_path}, provenance {result.item_path}, picture {result.picture_path}"
    )
    for acq, cover in zip(result.acquisitions, result.cloud_cover_aoi, strict=True):
        scene = "n/a" if acq.cloud_cover is None else f"{acq.cloud_cover:.1f}%"
        aoi = "n/a" if cover is None else f"{cover:.1f}%"
        click.echo(f"  {acq.date}: {', '.join(acq.scene_ids)} (cloud: scene {scene}, AOI {aoi})")
    why = f" ({result.cloud_note})" if result.cloud_note else ""
    click.echo(
        f"  clear: {100 * result.clear_fraction:.1f}% of the AOI; cloud mask: "
        f"{result.cloud_mask}{why}; DEM: {result.dem_source or 'none'}"
    )


def _say_band_note(results: Any) -> None:
    for note in dict.fromkeys(r.band_note for r in results if r.band_note):
        click.echo(f"Note: {note}", err=True)


@click.group(help=_FETCH_HELP, invoke_without_command=True)
@aoi_option(required=False)
@click.option("--start", type=_DATE, default=None, help="First day (YYYY-MM-DD, UTC).")
@click.option("--end", type=_DATE, default=None, help="Last day (YYYY-MM-DD, UTC), inclusive.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output GeoTIFF.")
@source_options
@click.pass_context
def fetch(
    ctx: click.Context,
    aoi: Any,
    start: datetime | None,
    end: datetime | None,
    out: Path | None,
    source: Any,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    given = {"aoi": aoi, "start": start, "end": end, "out": out}
    missing = [f"--{name}" for name, value in given.items() if value is None]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}; see slidewatch fetch --help")
    from slidewatch.acquisition.stack import fetch_stack

    _remember_aoi(ctx)
    assert start is not None and end is not None and out is not None
    result = fetch_stack(source, aoi, start.date(), end.date(), out, command=_command(ctx))
    _say_band_note([result])
    _report(result)


@fetch.command("pair")
@aoi_option()
@click.option("--event-date", type=_DATE, required=True, help="Day of the event (YYYY-MM-DD).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Days searched before and after the event.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder: pre.tif and post.tif (+ masks and STAC items).",
)
@source_options
@click.pass_context
def pair(
    ctx: click.Context, aoi: Any, event_date: datetime, days: int, out: Path, source: Any
) -> None:
    """The clearest acquisition before EVENT_DATE and the clearest after it, as two stacks."""
    from slidewatch.acquisition.pair import fetch_pair

    _remember_aoi(ctx)
    result = fetch_pair(source, aoi, event_date.date(), days, out, command=_command(ctx))
    _say_band_note([result.pre, result.post])
    for stack in (result.pre, result.post):
        _report(stack)
    click.echo(f"pre and post side by side: {result.picture_path}")
