"""``slidewatch data download``: fetch a benchmark dataset (Landslide4Sense) when asked.
Imported lazily by the ``data`` group."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("dataset", type=click.Choice(["landslide4sense"]))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to fill (official layout from zenodo, Hugging Face layout from huggingface).",
)
@click.option(
    "--source",
    type=click.Choice(["zenodo", "huggingface"]),
    default="zenodo",
    show_default=True,
    help="Zenodo record 10463239 (three zips) or the ibm-nasa-geospatial Hugging Face mirror.",
)
@click.option(
    "--splits",
    default="train,validation,test",
    show_default=True,
    help="Splits to fetch, comma-separated.",
)
@click.option(
    "--base-url",
    help="Fetch the files from this mirror instead of the source (URL of the folder that "
    "holds them)  [env SLIDEWATCH_L4S_BASE_URL]",
)
@click.option(
    "--api-url",
    help="The listing that states sizes and checksums (default: the source's own API)  "
    "[env SLIDEWATCH_L4S_API_URL]",
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Accept files whose checksum no manifest or listing states (checked by size only).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def download(
    dataset: str,
    out: Path,
    source: str,
    splits: str,
    base_url: str | None,
    api_url: str | None,
    allow_unverified: bool,
    quiet: bool,
) -> None:
    """Download DATASET (landslide4sense: the paper's benchmark) into --out.

    Resumable: run the same command again after an interruption. Sizes and checksums are
    checked; a split appears under its final name only when complete (docs/training.md).
    """
    from slidewatch.application.settings import Settings
    from slidewatch.data.l4s_download import download_l4s, parse_splits

    settings = Settings.read()
    base_url = base_url or settings.l4s_base_url
    api_url = api_url or settings.l4s_api_url
    result = download_l4s(
        out, source, parse_splits(splits), base_url, api_url, allow_unverified, not quiet
    )
    click.echo(
        f"{', '.join(result.splits)} in {result.out} ({result.layout} layout; {result.fetched} "
        f"files downloaded now); next: slidewatch data check {result.out}"
    )
    if result.unverified:
        click.secho(
            f"Warning: {len(result.unverified)} files were taken without a checksum "
            "(--allow-unverified); see download.json",
            fg="yellow",
            err=True,
        )
