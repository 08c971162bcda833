"""``slidewatch demo``: the whole pipeline on synthetic data, nothing downloaded."""

from __future__ import annotations

from pathlib import Path

import click

from slidewatch.cli.options import device_option


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("slidewatch-demo"),
    show_default=True,
    help="Folder for the synthetic data, the model and the detection outputs.",
)
@click.option("--small", is_flag=True, help="A seconds-long variant (tiny areas, one epoch).")
@device_option("Where the model trains and runs.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def demo(out: Path, small: bool, device: str, quiet: bool) -> None:
    """Generate a synthetic area, train a small model, detect over a larger scene.

    The data are SYNTHETIC: terrain, vegetation and bare-soil scars on steep slopes in the
    Landslide4Sense scale. Finishes in under five minutes on 2 CPU cores.
    """
    from slidewatch.demo import SMALL, DemoSettings, run_demo

    settings = SMALL if small else DemoSettings()
    result = run_demo(out, settings, log=click.echo, progress=not quiet, device=device)
    summary = result.summary
    det = out / "detection"
    click.echo("")
    click.echo(f"Done in {result.elapsed_s} s (synthetic data).")
    click.echo(f"  model:          {result.model_dir}")
    for name in ("probability.tif", "landslides.tif", "landslides.geojson", "quicklook.png",
                 "summary.json"):  # fmt: skip
        click.echo(f"  {name:<19} {det / name}")
    click.echo(
        f"  detected landslide area: {summary.landslide_area_km2:.3f} km² in "
        f"{summary.polygon_count} polygons (true fraction {result.true_landslide_fraction:.2%})"
    )
    sc = result.scores
    click.echo(
        f"  against the synthetic truth: F1 {sc['f1']:.3f}, IoU {sc['iou']:.3f}, "
        f"precision {sc['precision']:.3f}, recall {sc['recall']:.3f}"
    )
