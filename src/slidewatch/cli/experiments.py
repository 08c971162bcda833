"""``slidewatch experiments``: a grid of training runs, evaluated and tabulated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import device_option
from slidewatch.cli.train import _DEFAULTS, _given, _key_values, _silence_lightning
from slidewatch.errors import ConfigError


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
@device_option("Where every run trains (overrides the grid's train section).", _DEFAULTS.device)
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
    device: str,
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
        train={**_key_values(train_set, "--set"),
               **_given(click.get_current_context(), {"device": device})},
        model_options=options,
    )  # fmt: skip
    _silence_lightning(quiet)
    paths = run_grid(grid, out, data_root=data_root, progress=not quiet)
    for path in paths.values():
        click.echo(f"wrote {path}")
