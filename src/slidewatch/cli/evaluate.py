"""``slidewatch evaluate``: a model scored on labelled patches."""

from __future__ import annotations

import json
from pathlib import Path

import click

from slidewatch.cli.contract import contract_warnings_shown, strict_option
from slidewatch.cli.options import device_option, engine_option


@click.command()
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Model directory (RUN_DIR/model).",
)
@click.option(
    "--data",
    "data",
    required=True,
    multiple=True,
    type=click.Path(path_type=Path),
    help="Labelled patch dataset folder; repeatable.",
)
@click.option(
    "--split",
    default=None,
    show_default="the model's own validation split when its run recorded one, else all",
    help="all, train, val, test, or a split file (its 'val' entry).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the metrics as JSON here."
)
@click.option(
    "--predictions",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save each patch's probability as DIR/SOURCE/ID.npy (DIR/SOURCE/SPLIT/ID.npy in "
    "layouts with splits).",
)
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw RGB | ground truth | prediction for a few patches (PNG).",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="First store the F1-optimal threshold on the validation split in the model; the "
    "scores are then reported on other patches (the test split when the data has one, "
    "else cross-validated).",
)
@click.option("--batch-size", default=8, show_default=True, help="Patches per batch.")
@device_option()
@engine_option
@strict_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@contract_warnings_shown()
def evaluate(
    model_dir: Path,
    data: tuple[Path, ...],
    split: str | None,
    out: Path | None,
    predictions: Path | None,
    figure: Path | None,
    calibrate: bool,
    batch_size: int,
    device: str,
    engine: str,
    strict: bool,
    quiet: bool,
) -> None:
    """Evaluate a model: pixel-summed precision, recall, F1, IoU and the paper's losses."""
    from slidewatch.training.evaluate import evaluate as run_evaluation

    result = run_evaluation(
        model_dir,
        data,
        split=split,
        out=out,
        predictions_dir=predictions,
        figure=figure,
        calibrate=calibrate,
        batch_size=batch_size,
        progress=not quiet,
        engine=engine,
        device=device,
        strict=strict,
    )
    click.echo(f"scored {result['n_patches']} patches: {result['scored']}", err=True)
    if "calibration" in result:
        c = result["calibration"]
        chosen, reported = c["chosen_on"], c["reported_on"]
        click.echo(
            f"threshold {c['threshold']:g} chosen on {chosen['patches']} patches "
            f"({chosen['what']}; F1 there {chosen['in_sample_f1']:.3f}, in-sample); scores "
            f"below reported on {reported['patches']} patches: {reported['method']}",
            err=True,
        )
    if result["training_patches_scored"]:
        click.secho(
            f"Warning: {result['training_patches_scored']} of the {result['n_patches']} scored "
            "patches were training patches of this model, so these scores flatter it; "
            "use --split val (the default) for an honest figure",
            fg="yellow",
            err=True,
        )
    keys = ("split", "scored", "training_patches_scored", "engine", "n_patches", "threshold")
    summary = {k: result[k] for k in (*keys, "pixel", "losses", "data_contract")}
    if "calibration" in result:
        summary["calibration"] = result["calibration"]
    summary["data_contract"] = {k: result["data_contract"][k] for k in ("ok", "warnings")}
    click.echo(json.dumps(summary, indent=2, default=float))
