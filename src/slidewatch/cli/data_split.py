"""``slidewatch data split``: a seeded train/val split (or the official one) that keeps
identical and overlapping patches on one side. Imported lazily by the ``data`` group."""

from __future__ import annotations

from pathlib import Path

import click

from slidewatch.cli.data import EXISTING_DIR, SOURCE_OPTION, refs_of


@click.command()
@click.argument("directories", nargs=-1, required=True, type=EXISTING_DIR)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Split file to write (JSON: split name -> patch keys).",
)
@click.option("--seed", default=42, show_default=True, help="Random seed of the split.")
@click.option(
    "--val-fraction",
    default=0.2,
    show_default=True,
    type=float,
    help="Share of patches that go to validation.",
)
@click.option(
    "--official",
    is_flag=True,
    help="Use the layout's own train/val/test splits instead of a random one.",
)
@SOURCE_OPTION
def split(
    directories: tuple[Path, ...],
    out: Path,
    seed: int,
    val_fraction: float,
    official: bool,
    sources: tuple[str, ...],
) -> None:
    """Write a seeded random train/val split (or the official one) of the patches.

    The random split keeps identical images and overlapping patches (by the bounds in
    index.geojson) on one side.
    """
    from slidewatch.data.leakage import image_hashes, leak_groups
    from slidewatch.data.splits import official_split, split_apart, write_split

    refs = refs_of(directories, sources)
    hashes = {} if official else image_hashes(refs)
    together = [g for g in leak_groups(refs, hashes) if len(g) > 1] if not official else []
    if together:
        click.echo(
            f"{sum(map(len, together))} patches in {len(together)} groups of identical or "
            "overlapping patches: none split between training and validation"
        )
    if official:
        names = sorted({r.split for r in refs if r.split})
        parts = {name: official_split(refs, name) for name in names} or {
            "train": official_split(refs, "train")
        }
    else:
        parts = split_apart(refs, val_fraction, seed, hashes).as_dict()
        if "buffer" in parts:
            click.echo(
                f"{len(parts['buffer'])} patches overlapping validation patches left out of "
                "training (a buffer; cut patches with --stride equal to --size to lose none)"
            )
    write_split(out, parts)
    click.echo(", ".join(f"{k}: {len(v)}" for k, v in parts.items()) + f" -> {out}")
