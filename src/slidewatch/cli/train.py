"""``slidewatch train`` (``evaluate`` lives in ``cli/evaluate.py``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
import yaml
from click.core import ParameterSource

from slidewatch.bands import BAND_SETS
from slidewatch.cli.options import device_option
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
@click.option(
    "--init-from",
    "init_from",
    type=click.Path(file_okay=False),
    help="Fine-tune this model directory (a store version: HOME/models/NAME): its "
    "architecture, bands, normalisation and weights; given --arch/--bands must match.",
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
    if config.init_from:
        from slidewatch.training.init_from import inherit

        typed = set(overrides) | ({"arch_options"} if arch_option else set())
        config = inherit(config, typed | (set(config_keys(config_file)) if config_file else set()))
    preflight(config)  # bands and RUN_DIR checked before torch is imported
    from slidewatch.training.train import train as run_training

    model_dir = run_training(config, progress=not quiet, verbose=verbose)
    click.echo(training_report(model_dir))


def config_keys(path: Path) -> list[str]:
    """The options a YAML configuration file sets."""
    from slidewatch.training.config import read_yaml

    values = read_yaml(path)
    return list(values) if isinstance(values, dict) else []


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
