"""Checks a training run passes before torch is imported or anything is written.

A run that cannot start (a band the data lacks, a run folder holding another run) fails in
a second with every problem named, and leaves no file behind. Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path

from slidewatch.data.hdf5 import read_bands
from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.errors import BandError, ConfigError
from slidewatch.training.config import TrainConfig
from slidewatch.training.init_from import check_init


def check_run_dir(config: TrainConfig) -> None:
    """ConfigError when RUN_DIR already holds files and the run is not a resume."""
    run_dir = Path(config.out)
    if config.resume or not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: the run directory is a file; choose another --out")
    held = sorted(p.name for p in run_dir.iterdir())
    if held:
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise ConfigError(
            f"{run_dir} is not empty (it holds {shown}); pass --resume to continue that run "
            "or choose another --out"
        )


def missing_bands(
    config: TrainConfig, refs: list[PatchRef]
) -> dict[Path, tuple[tuple[str, ...], list[str]]]:
    """Per image folder (one file read per folder): the bands it holds and the configured
    bands it lacks, for the folders that lack any."""
    first_image = {ref.image.parent: ref.image for ref in reversed(refs)}
    missing: dict[Path, tuple[tuple[str, ...], list[str]]] = {}
    for folder, image in sorted(first_image.items()):
        held = read_bands(image)
        lacking = [band for band in config.band_names if band not in held]
        if lacking:
            missing[folder] = (held, lacking)
    return missing


def check_bands(config: TrainConfig) -> None:
    """BandError naming every band each dataset folder lacks (not only the first)."""
    if not config.data:
        return
    missing = missing_bands(config, discover_many([Path(d) for d in config.data]))
    if missing:
        lines = "; ".join(
            f"{folder} lacks {', '.join(lacking)} (it holds {', '.join(held)})"
            for folder, (held, lacking) in missing.items()
        )
        raise BandError(
            f"--bands {config.bands} names bands the data does not hold: {lines}; "
            "choose --bands among the bands every dataset holds"
        )


def preflight(config: TrainConfig) -> None:
    """Every check that needs neither torch nor a written file."""
    if not config.data and not config.cache_dir:
        raise ConfigError("no training data; give --data DIR (repeatable) or data: in --config")
    check_run_dir(config)
    check_init(config)
    check_bands(config)
