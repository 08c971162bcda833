"""The experiment grid: datasets × band sets × models, trained, evaluated and tabulated.

A grid file (YAML) looks like::

    datasets:                      # name -> dataset folders (relative to --data-root)
      L4S: [L4S]
      L4S+L4S-PE: [L4S, L4S-PE]
    bands: [all14, six10m]
    models:                        # name -> model options
      unet: {}
      segformer: {encoder_name: mit_b0}
    train: {epochs: 100}           # TrainConfig options shared by every run
    evaluate: [val]                # splits each model is evaluated on

Each run lives in ``OUT/<dataset>/<bands>/<model>/``; a run whose ``model/model.json`` and
``metrics.json`` exist is finished and skipped when the grid runs again.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from slidewatch.errors import ConfigError
from slidewatch.training.config import TrainConfig, read_yaml
from slidewatch.training.evaluate import evaluate, write_json
from slidewatch.training.results import result_rows, write_results
from slidewatch.training.train import train

GRID_KEYS = ("datasets", "bands", "models", "train", "evaluate")
SHIPPED = ("paper", "leaderboard", "smoke")
"""Grid configs shipped in ``slidewatch/configs``."""


def grid_file(name_or_path: str | Path) -> Path:
    """A grid file's path: an existing file, or the name of a shipped config."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = Path(str(files("slidewatch") / "configs")) / f"{path.stem}.yaml"
    if str(name_or_path) in SHIPPED or (path.suffix in ("", ".yaml") and shipped.is_file()):
        return shipped
    raise ConfigError(
        f"{name_or_path}: no such grid file; give a YAML path or a shipped grid "
        f"({', '.join(SHIPPED)})"
    )


@dataclass(frozen=True)
class GridConfig:
    """What an experiment grid runs."""

    datasets: dict[str, tuple[str, ...]]
    """Dataset name -> its folders (relative paths resolve against the data root)."""
    bands: tuple[str, ...]
    """Band sets (or comma-separated band lists)."""
    models: dict[str, dict[str, Any]]
    """Model name -> options."""
    train: dict[str, Any] = field(default_factory=dict)
    """TrainConfig options common to all runs."""
    evaluate: tuple[str, ...] = ("val",)
    """Splits every trained model is evaluated on."""

    @classmethod
    def from_dict(cls, d: Any, origin: str = "grid") -> GridConfig:
        """Validate and build; unknown keys raise ConfigError listing the valid ones."""
        if not isinstance(d, dict):
            raise ConfigError(f"{origin}: expected a mapping with keys {', '.join(GRID_KEYS)}")
        unknown = sorted(set(d) - set(GRID_KEYS))
        if unknown:
            raise ConfigError(
                f"{origin}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(GRID_KEYS)}"
            )
        missing = [k for k in ("datasets", "bands", "models") if not d.get(k)]
        if missing:
            raise ConfigError(f"{origin}: {', '.join(missing)} missing or empty; list at least one")
        datasets = {
            str(k): (v,) if isinstance(v, str) else tuple(map(str, v))
            for k, v in dict(d["datasets"]).items()
        }
        models = d["models"]
        models = {m: {} for m in models} if isinstance(models, list) else dict(models)
        grid = cls(
            datasets=datasets,
            bands=tuple(map(str, d["bands"])),
            models={str(k): dict(v or {}) for k, v in models.items()},
            train=dict(d.get("train") or {}),
            evaluate=tuple(d.get("evaluate") or ("val",)),
        )
        plan_runs(grid, Path("."), Path("."))  # validates every combination
        return grid

    @classmethod
    def from_yaml(cls, path: str | Path) -> GridConfig:
        """Read a grid file."""
        return cls.from_dict(read_yaml(path), origin=str(path))

    def shrink(
        self,
        datasets: list[str] | None = None,
        bands: list[str] | None = None,
        models: list[str] | None = None,
        train: dict[str, Any] | None = None,
        model_options: dict[str, dict[str, Any]] | None = None,
    ) -> GridConfig:
        """A copy limited to some datasets/bands/models, with training options overridden."""
        return dataclasses.replace(
            self,
            datasets={k: self.datasets[k] for k in _subset(self.datasets, datasets, "dataset")},
            bands=_subset(self.bands, bands, "band set"),
            models={
                k: {**self.models[k], **(model_options or {}).get(k, {})}
                for k in _subset(self.models, models, "model")
            },
            train={**self.train, **(train or {})},
        )


def _subset(names: Iterable[str], chosen: list[str] | None, kind: str) -> tuple[str, ...]:
    names = tuple(names)
    if chosen is None:
        return names
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise ConfigError(
            f"{kind} {', '.join(unknown)} is not in the grid; choose from {', '.join(names)}"
        )
    return tuple(n for n in names if n in chosen)


@dataclass(frozen=True)
class GridRun:
    """One cell of the grid."""

    dataset: str
    """Dataset name."""
    bands: str
    """Band set."""
    model: str
    """Model name."""
    config: TrainConfig
    """The full training configuration (``out`` is the run directory)."""

    @property
    def run_dir(self) -> Path:
        """Where the run writes."""
        return Path(self.config.out)


def plan_runs(grid: GridConfig, out: Path, data_root: Path) -> list[GridRun]:
    """Every (dataset, bands, model) combination as a run, in table order."""
    base = TrainConfig.from_dict(grid.train, origin="grid 'train' section")
    runs = []
    for dataset, folders in grid.datasets.items():
        data = tuple(str(data_root / f) for f in folders)
        for bands in grid.bands:
            for model, options in grid.models.items():
                run_dir = out / dataset / bands / model
                config = dataclasses.replace(
                    base, data=data, bands=bands, arch=model, arch_options=options,
                    out=str(run_dir),
                )  # fmt: skip
                runs.append(GridRun(dataset, bands, model, config))
    return runs


def is_finished(run_dir: Path) -> bool:
    """A run is finished when its model file and its metrics exist."""
    return (run_dir / "model" / "model.json").is_file() and (run_dir / "metrics.json").is_file()


def run_one(run: GridRun, splits: tuple[str, ...], progress: bool) -> None:
    """Train (resuming if interrupted), evaluate on each split, write metrics.json last."""
    model_dir = run.run_dir / "model"
    if not (model_dir / "model.json").is_file():  # else only the evaluation was interrupted
        model_dir = train(dataclasses.replace(run.config, resume=True), progress=progress)
    metrics = {
        split: evaluate(model_dir, run.config.data, split=split, progress=progress)
        for split in splits
    }
    write_json(run.run_dir / "metrics.json", metrics)


def run_grid(
    grid: GridConfig, out: str | Path, data_root: str | Path = ".", progress: bool = True
) -> dict[str, Path]:
    """Run every unfinished cell, then write results.md, results.csv and results.png."""
    out = Path(out)
    runs = plan_runs(grid, out, Path(data_root))
    for i, run in enumerate(runs, 1):
        if is_finished(run.run_dir):
            if progress:
                tqdm.write(f"[{i}/{len(runs)}] {run.run_dir}: finished, skipped", file=sys.stderr)
            continue
        if progress:
            tqdm.write(
                f"[{i}/{len(runs)}] {run.model} on {run.dataset}, {run.bands}", file=sys.stderr
            )
        run_one(run, grid.evaluate, progress)
    return write_results(result_rows(runs, grid.evaluate), out)
