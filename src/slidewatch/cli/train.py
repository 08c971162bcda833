"""``slidewatch train`` and ``slidewatch evaluate``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click
import yaml
from click.core import ParameterSource

from slidewatch.bands import BAND_SETS
from slidewatch.cli.contract import contract_warnings_shown, strict_option
from slidewatch.cli.options import device_option, engine_option
from slidewatch.errors import ConfigError
from slidewatch.training.config import (
    LOGGERS,
    LOSSES,
    NORMALIZATIONS,
    PRECISIONS,
    TrainConfig,
)


def _beta(value: str | None) -> float | str | None:
    if value is None or value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number; give e.g. 4.0 or 'auto'") from None


def _silence_lightning(quiet: bool) -> None:
    # Lightning reports hardware, checkpoint loading and tips at INFO level.
    if quiet:
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)


def _key_values(items: tuple[str, ...], what: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs with YAML-parsed values."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{what} {item!r} is not KEY=VALUE; write e.g. base_width=32")
        out[key.strip()] = yaml.safe_load(value)
    return out


_DEFAULTS = TrainConfig()
"""The defaults --help shows; an option left at its default does not override --config."""


def _given(ctx: click.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The options typed on the command line (or from the environment), not defaults."""
    return {
        name: value
        for name, value in values.items()
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
    }


BAND_HELP = (
    "Band set ("
    + "; ".join(
        f"{name}: {','.join(bands) if len(bands) < 14 else 'all 14'}"
        for name, bands in BAND_SETS.items()
    )
    + ") or band names, e.g. B2,B3,B4,B8."
)


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of training options; the options below override it.",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Patch dataset folder; repeat to combine datasets.",
)
@click.option(
    "--arch",
    default=_DEFAULTS.arch,
    show_default=True,
    help="Architecture (see 'slidewatch models architectures').",
)
@click.option(
    "--arch-option",
    "arch_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Architecture option, e.g. base_width=32; repeatable.",
)
@click.option("--bands", default=_DEFAULTS.bands, show_default=True, help=BAND_HELP)
@click.option(
    "--loss", type=click.Choice(LOSSES), default=_DEFAULTS.loss, show_default=True, help="Loss."
)
@click.option(
    "--alpha",
    type=float,
    default=_DEFAULTS.alpha,
    show_default=True,
    help="Dice weight of wce-dice.",
)
@click.option(
    "--beta",
    default=_DEFAULTS.beta,
    show_default=True,
    help="WCE landslide weight, or 'auto' from the training split's class balance.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=_DEFAULTS.epochs,
    show_default=True,
    help="Maximum epochs.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=_DEFAULTS.batch_size,
    show_default=True,
    help="Patches per batch.",
)
@click.option(
    "--lr", type=float, default=_DEFAULTS.lr, show_default=True, help="Adam learning rate."
)
@click.option(
    "--split",
    default=_DEFAULTS.split,
    show_default=True,
    help="random (seeded 80/20), official, or a split file (.json).",
)
@click.option(
    "--normalization",
    type=click.Choice(NORMALIZATIONS),
    default=_DEFAULTS.normalization,
    show_default=True,
    help="Per-band normalisation computed on the training split.",
)
@click.option(
    "--augment/--no-augment",
    default=_DEFAULTS.augment,
    show_default=True,
    help="Random flips and 90° rotations.",
)
@click.option(
    "--num-workers",
    type=click.IntRange(min=0),
    default=_DEFAULTS.num_workers,
    show_default=True,
    help="DataLoader worker processes.",
)
@device_option("Where to train.", _DEFAULTS.device)
@click.option(
    "--num-devices",
    default=_DEFAULTS.num_devices,
    show_default=True,
    help="How many devices (N GPUs with --strategy ddp).",
)
@click.option(
    "--strategy",
    default=_DEFAULTS.strategy,
    show_default=True,
    help="Lightning strategy, e.g. ddp.",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=_DEFAULTS.precision,
    show_default=True,
    help="Numeric precision; auto = 16-mixed on CUDA, else 32-true.",
)
@click.option(
    "--logger",
    type=click.Choice(LOGGERS),
    default=_DEFAULTS.logger,
    show_default=True,
    help="Metrics logger.",
)
@click.option("--cache-dir", help="Consolidated patch cache to read from (built if absent).")
@click.option(
    "--seed",
    type=int,
    default=_DEFAULTS.seed,
    show_default=True,
    help="Seed of split, weights and order.",
)
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/checkpoints/last.ckpt.")
@click.option(
    "--out",
    default=_DEFAULTS.out,
    show_default=True,
    help="Run directory RUN_DIR (must be empty unless --resume).",
)
@click.option("--quiet", is_flag=True, help="No per-epoch progress; the final summary only.")
@click.option("--verbose", is_flag=True, help="Also Lightning's messages and the layer table.")
def train(
    config_file: Path | None,
    data: tuple[Path, ...],
    arch_option: tuple[str, ...],
    num_devices: str | None,
    beta: str | None,
    quiet: bool,
    verbose: bool,
    **options: Any,
) -> None:
    """Train a model; writes RUN_DIR/model (safetensors + JSON), checkpoints and logs.

    On a terminal a progress bar shows each epoch; into a file or pipe one line per
    epoch is printed instead. A summary (epochs, best epoch, validation scores, threshold,
    model path) ends the run, also with --quiet.
    """
    from slidewatch.training.preflight import preflight

    config = TrainConfig.from_yaml(config_file) if config_file else TrainConfig()
    overrides = _given(click.get_current_context(), options)
    overrides["data"] = tuple(str(d) for d in data) or None
    given = _given(click.get_current_context(), {"beta": beta, "num_devices": num_devices})
    if "beta" in given:
        overrides["beta"] = _beta(beta)
    if num_devices is not None and "num_devices" in given:
        overrides["num_devices"] = int(num_devices) if num_devices.isdigit() else num_devices
    if arch_option:
        overrides["arch_options"] = {
            **config.arch_options,
            **_key_values(arch_option, "--arch-option"),
        }
    config = config.replace(**overrides)
    preflight(config)  # bands and RUN_DIR checked before torch is imported
    from slidewatch.training.train import train as run_training

    model_dir = run_training(config, progress=not quiet, verbose=verbose)
    click.echo(training_report(model_dir))


def training_report(model_dir: Path) -> str:
    """The closing summary of a run, read back from the model file."""
    from slidewatch.models.modelfile import read_spec

    spec = read_spec(model_dir)
    t, m = spec.training, spec.metrics
    early = " (stopped early)" if t.get("stopped_early") else ""
    scores = "  ".join(
        f"{label} {float(m[key]):.3f}"
        for label, key in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("F1", "f1"),
            ("IoU", "iou"),
        )
        if key in m
    )
    loss = (
        f"  {m.get('loss_name', 'validation')} loss {float(m['loss']):.4f}" if "loss" in m else ""
    )
    epochs = f"{t.get('epochs_run')} epochs run{early}, best epoch {t.get('best_epoch')}"
    validation = f"validation ({m.get('n_patches')} patches, threshold {spec.threshold:g})"
    from slidewatch.training.run_advice import run_advice

    advice = run_advice(m, t, spec.threshold)
    lines = [
        f"slidewatch train: {epochs}",
        f"  {validation}: {scores}{loss}",
        f"  model: {model_dir}",
    ]
    return "\n".join(lines + ([advice] if advice else []))


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
