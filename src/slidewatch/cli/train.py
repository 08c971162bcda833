"""``slidewatch train``, ``slidewatch evaluate`` and ``slidewatch experiments``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click
import yaml

from slidewatch.errors import ConfigError


def _beta(value: str | None) -> float | str | None:
    if value is None or value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number; give e.g. 4.0 or 'auto'") from None


def _silence_lightning(quiet: bool) -> None:
    # Lightning reports hardware and checkpoint loading at INFO level.
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
@click.option("--model", help="Architecture (see 'slidewatch models'). [default: unet]")
@click.option(
    "--model-option",
    "model_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Architecture option, e.g. base_width=32; repeatable.",
)
@click.option("--bands", help="Band set (all14, six10m, ...) or names B2,B3,... [default: all14]")
@click.option("--loss", help="bce, wce, dice or wce-dice. [default: wce-dice]")
@click.option("--alpha", type=float, help="Dice weight of wce-dice. [default: 0.5]")
@click.option("--beta", help="WCE landslide weight, or 'auto' from the class balance.")
@click.option("--epochs", type=int, help="Maximum epochs. [default: 100]")
@click.option("--batch-size", type=int, help="Patches per batch. [default: 16]")
@click.option("--lr", type=float, help="Adam learning rate. [default: 0.001]")
@click.option("--split", help="random, official, or a split file (.json). [default: random]")
@click.option("--normalization", help="minmax, percentiles, standard or none.")
@click.option("--augment/--no-augment", default=None, help="Random flips and 90° rotations.")
@click.option("--num-workers", type=int, help="DataLoader worker processes.")
@click.option("--accelerator", help="cpu, gpu or auto.")
@click.option("--devices", help="Number of devices (with --strategy ddp for multi-GPU).")
@click.option("--strategy", help="Lightning strategy, e.g. ddp.")
@click.option("--precision", help="Lightning precision; auto = 16-mixed on GPU.")
@click.option("--logger", help="csv, tensorboard, wandb (offline) or mlflow.")
@click.option("--cache-dir", help="Consolidated patch cache to read from (built if absent).")
@click.option("--seed", type=int, help="Seed of split, weights and order. [default: 42]")
@click.option(
    "--resume", is_flag=True, default=None, help="Continue from RUN_DIR/checkpoints/last.ckpt."
)
@click.option("--out", help="Run directory RUN_DIR.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    config_file: Path | None,
    data: tuple[Path, ...],
    model_option: tuple[str, ...],
    devices: str | None,
    beta: str | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Train a model; writes RUN_DIR/model (safetensors + JSON), checkpoints and logs."""
    from slidewatch.training.config import TrainConfig
    from slidewatch.training.train import train as run_training

    config = TrainConfig.from_yaml(config_file) if config_file else TrainConfig()
    overrides = dict(options)
    overrides["data"] = tuple(str(d) for d in data) or None
    overrides["beta"] = _beta(beta)
    overrides["devices"] = int(devices) if devices and devices.isdigit() else devices
    if model_option:
        overrides["model_options"] = {
            **config.model_options,
            **_key_values(model_option, "--model-option"),
        }
    config = config.replace(**overrides)
    if not config.data and not config.cache_dir:
        raise ConfigError("no training data; give --data DIR (repeatable) or data: in --config")
    _silence_lightning(quiet)
    model_dir = run_training(config, progress=not quiet)
    click.echo(f"model written to {model_dir}")


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
    default="all",
    show_default=True,
    help="all, train, val, test, or a split file (its 'val' entry).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the metrics as JSON here."
)
@click.option(
    "--predictions",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save each patch's probability as DIR/SOURCE/ID.npy.",
)
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw RGB | ground truth | prediction for a few patches (PNG).",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="First store the F1-optimal threshold on the validation split in the model.",
)
@click.option("--batch-size", default=8, show_default=True, help="Patches per batch.")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda", "auto"]),
    default="auto",
    show_default=True,
    help="Where the model runs (auto: a CUDA GPU when one is usable).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "onnx", "torch"]),
    default="auto",
    show_default=True,
    help="Inference engine; auto takes the one measured fastest for the architecture.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def evaluate(
    model_dir: Path,
    data: tuple[Path, ...],
    split: str,
    out: Path | None,
    predictions: Path | None,
    figure: Path | None,
    calibrate: bool,
    batch_size: int,
    device: str,
    engine: str,
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
    )
    summary = {
        k: result[k] for k in ("split", "engine", "n_patches", "threshold", "pixel", "losses")
    }
    click.echo(json.dumps(summary, indent=2, default=float))


@click.command()
@click.argument("config", metavar="CONFIG")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder of the runs and the results tables.",
)
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder the grid's dataset paths are relative to.",
)
@click.option("--only-datasets", help="Comma-separated datasets of the grid to run.")
@click.option("--only-bands", help="Comma-separated band sets of the grid to run.")
@click.option("--only-models", help="Comma-separated models of the grid to run.")
@click.option(
    "--set",
    "train_set",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a training option of every run, e.g. epochs=1; repeatable.",
)
@click.option(
    "--model-option",
    "model_option",
    multiple=True,
    metavar="MODEL.KEY=VALUE",
    help="Override a model option, e.g. unet.base_width=8; repeatable.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def experiments(
    config: str,
    out: Path,
    data_root: Path,
    only_datasets: str | None,
    only_bands: str | None,
    only_models: str | None,
    train_set: tuple[str, ...],
    model_option: tuple[str, ...],
    quiet: bool,
) -> None:
    """Run a grid of experiments (a YAML file or a shipped name: paper, leaderboard, smoke).

    Finished runs are skipped; results.md, results.csv and results.png are written to OUT.
    """
    from slidewatch.training.experiments import GridConfig, grid_file, run_grid

    split = lambda s: [x.strip() for x in s.split(",")] if s else None  # noqa: E731
    options: dict[str, dict[str, Any]] = {}
    for key, value in _key_values(model_option, "--model-option").items():
        model, _, name = key.rpartition(".")
        if not model:
            raise ConfigError(f"--model-option {key!r} names no model; write MODEL.KEY=VALUE")
        options.setdefault(model, {})[name] = value
    grid = GridConfig.from_yaml(grid_file(config)).shrink(
        datasets=split(only_datasets), bands=split(only_bands), models=split(only_models),
        train=_key_values(train_set, "--set"), model_options=options,
    )  # fmt: skip
    _silence_lightning(quiet)
    paths = run_grid(grid, out, data_root=data_root, progress=not quiet)
    for path in paths.values():
        click.echo(f"wrote {path}")
