"""``slidewatch data ...``: check, describe, split, cache, generate and build patch datasets.

Thin commands: parse, call one library function, print. No torch import here.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from slidewatch.bands import BAND_SETS
from slidewatch.data.layout import PatchRef, discover_many

if TYPE_CHECKING:
    from slidewatch.data.stats import SourceStats

_SETS = ", ".join(BAND_SETS)
"""The named band sets, as the help texts list them."""

EXISTING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
BUILD_MODULE = "slidewatch.cli.build"
LAZY_COMMANDS = {"build-patches": "build_patches", "split": "split", "download": "download"}
"""Commands of their own module (``build-patches`` in :data:`BUILD_MODULE`, the others in
``slidewatch.cli.data_<name>``), imported only when asked for."""


class DataGroup(click.Group):
    """The ``data`` group; the :data:`LAZY_COMMANDS` are imported only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        name = BUILD_MODULE if cmd_name == "build-patches" else f"{__name__}_{cmd_name}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            return _unavailable(cmd_name)
        command = getattr(module, LAZY_COMMANDS[cmd_name], None)
        return command if isinstance(command, click.Command) else _unavailable(cmd_name)


def _unavailable(name: str) -> click.Command:
    @click.command(name, help="(not available in this installation).")
    def unavailable() -> None:
        raise click.ClickException(f"{name} is not available in this installation")

    return unavailable


@click.group(cls=DataGroup)
def data() -> None:
    """Check, describe, split, cache, generate and build L4S patch datasets."""


def refs_of(dirs: Sequence[Path], sources: Sequence[str]) -> list[PatchRef]:
    return discover_many(list(dirs), list(sources) or None)


SOURCE_OPTION = click.option(
    "--source",
    "sources",
    multiple=True,
    help="Name of each dataset folder, in order (default: the folder names).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


@data.command()
@click.argument("directories", nargs=-1, required=True, type=EXISTING_DIR)
@JSON_OPTION
def check(directories: tuple[Path, ...], as_json: bool) -> None:
    """Validate every file of the datasets in DIRECTORIES and report all problems, including
    identical images within and across the folders (an error when their masks disagree).

    Exit code 0 when clean (warnings allowed), 1 when any error was found.
    """
    from slidewatch.data.check import check_datasets

    reports = check_datasets(list(directories), progress=not as_json)
    if as_json:
        payload = [r.to_dict() for r in reports]
        ok = all(r.ok for r in reports)
        click.echo(json.dumps(payload[0] if len(payload) == 1 else
                              {"ok": ok, "folders": payload}, indent=1))  # fmt: skip
    else:
        issues = [i for r in reports for i in r.issues]
        if issues:
            width = max(len(i.file) for i in issues)
            click.echo(f"{'file':<{width}}  severity  problem")
            for issue in issues:
                click.echo(f"{issue.file:<{width}}  {issue.severity:<8}  {issue.problem}")
        for report in reports:
            for note in report.notes:
                click.echo(f"note: {report.root}: {note}" if len(reports) > 1 else f"note: {note}")
            click.echo(report.summary())
    if not all(r.ok for r in reports):
        raise SystemExit(1)


def _print_table1(rows: Sequence[SourceStats]) -> None:
    click.echo(
        f"{'source':<24} {'landslide km²':>14} {'% landslide':>12} "
        f"{'% no landslide':>15} {'patches':>8}"
    )
    for r in rows:
        if r.labeled_patches == 0:
            click.echo(f"{r.source:<24} {'-':>14} {'-':>12} {'-':>15} {r.patches:>8d}")
            continue
        click.echo(
            f"{r.source:<24} {r.landslide_km2:>14.4f} {r.landslide_percent:>12.3f} "
            f"{r.background_percent:>15.3f} {r.patches:>8d}"
        )
    if any(r.labeled_patches < r.patches for r in rows):
        click.echo("(areas and percentages count labeled patches only)")
    for r in rows[:-1]:
        if r.empty_images:
            click.echo(
                f"{r.source}: {r.empty_images} of {r.patches} images are all zeros (no data); "
                "'slidewatch data check' names them"
            )


@data.command()
@click.argument("directories", nargs=-1, required=True, type=EXISTING_DIR)
@SOURCE_OPTION
@JSON_OPTION
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw per-band value distributions per source to this PNG.",
)
@click.option(
    "--bands",
    default=None,
    help=f"Bands to plot: a band set ({_SETS}) or names like B4,B3,B2,B8 "
    "[default: the bands every dataset holds].",
)
def stats(
    directories: tuple[Path, ...],
    sources: tuple[str, ...],
    as_json: bool,
    plot: Path | None,
    bands: str | None,
) -> None:
    """Table 1 of the paper per source and combined: landslide km², %, patches."""
    from slidewatch.bands import resolve_bands
    from slidewatch.data.stats import common_bands, table1

    if bands is not None:
        resolve_bands(bands)  # fail on a bad name before any work
    refs = refs_of(directories, sources)
    rows = table1(refs, progress=not as_json)
    if plot is not None:
        from slidewatch.data.figures import plot_band_distributions

        chosen = bands if bands is not None else common_bands(refs)
        plot_band_distributions(refs, plot, chosen, progress=not as_json)
    if as_json:
        click.echo(
            json.dumps(
                {"sources": [r.to_dict() for r in rows], "plot": str(plot) if plot else None},
                indent=1,
            )
        )
        return
    _print_table1(rows)
    if plot is not None:
        click.echo(f"wrote {plot}")


@data.command()
@click.argument("directories", nargs=-1, required=True, type=EXISTING_DIR)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder to write (images.npy, masks.npy, index.json).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16"]),
    default="float32",
    show_default=True,
    help="Storage type of the images (float16 halves the size).",
)
@SOURCE_OPTION
def cache(directories: tuple[Path, ...], out: Path, dtype: str, sources: tuple[str, ...]) -> None:
    """Consolidate datasets into one memory-mapped store for fast training."""
    from slidewatch.data.cache import build_cache

    refs = refs_of(directories, sources)
    build_cache(refs, out, dtype=dtype)
    click.echo(f"cached {len(refs)} patches into {out}")


@data.command()
@click.argument("directories", nargs=-1, required=True, type=EXISTING_DIR)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Normalisation JSON to write.",
)
@click.option(
    "--method",
    type=click.Choice(["minmax", "standard", "none"]),
    default="minmax",
    show_default=True,
    help="Normalisation method.",
)
@click.option(
    "--bands",
    default="all14",
    show_default=True,
    help=f"Band set ({_SETS}) or names like B4,B3,B2,B8.",
)
@click.option(
    "--percentiles",
    type=(float, float),
    default=None,
    help="For minmax: use these percentiles (e.g. 1 99) instead of min and max.",
)
@SOURCE_OPTION
def normalization(
    directories: tuple[Path, ...],
    out: Path,
    method: str,
    bands: str,
    percentiles: tuple[float, float] | None,
    sources: tuple[str, ...],
) -> None:
    """Compute per-band normalisation on the given (training) datasets."""
    from slidewatch.data.splits import write_json
    from slidewatch.data.stats import compute_normalization

    norm = compute_normalization(
        refs_of(directories, sources), bands, method, percentiles, progress=True
    )
    write_json(out, norm.to_dict())
    click.echo(f"{method} normalisation of {len(norm.bands)} bands -> {out}")


@data.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the dataset to.",
)
@click.option(
    "--layout",
    type=click.Choice(["flat", "official", "huggingface"]),
    default="flat",
    show_default=True,
    help="Folder layout to write.",
)
@click.option("-n", "--patches", default=16, show_default=True, help="Number of patches.")
@click.option("--size-px", "size", default=128, show_default=True, help="Patch side in pixels.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
def generate(out: Path, layout: str, patches: int, size: int, seed: int) -> None:
    """Write a small synthetic L4S dataset (for trying things out and tests)."""
    from slidewatch.synthetic import make_l4s_dataset

    made = make_l4s_dataset(out, layout=layout, n=patches, size=size, seed=seed)
    click.echo(f"wrote {len(made.ids)} patches ({layout} layout) to {out}")
