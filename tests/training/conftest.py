"""Fixtures of the training tests: tiny generated datasets and one tiny trained model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from slidewatch.synthetic import make_l4s_dataset
from slidewatch.training.config import TrainConfig
from slidewatch.training.train import train

torch.set_num_threads(1)

TINY = {"base_width": 8}


def tiny_config(data: Path | list[Path], out: Path, **kw: object) -> TrainConfig:
    """A seconds-long training configuration on generated data."""
    dirs = [data] if isinstance(data, Path) else data
    options: dict[str, object] = {
        "data": tuple(str(d) for d in dirs),
        "arch_options": dict(TINY),
        "bands": "six10m",
        "epochs": 2,
        "batch_size": 4,
        "out": str(out),
    }
    options.update(kw)
    return TrainConfig.from_dict(options)


@pytest.fixture(scope="session")
def flat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 flat-layout patches, 14 bands."""
    root = tmp_path_factory.mktemp("flat") / "gen"
    make_l4s_dataset(root, n=10, seed=3)
    return root


@pytest.fixture(scope="session")
def official_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 patches in the official layout (train/val/test folders)."""
    root = tmp_path_factory.mktemp("official") / "L4S"
    make_l4s_dataset(root, layout="official", n=10, seed=4)
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, flat_data: Path) -> Path:
    """A tiny six-band U-Net trained for 2 epochs; returns its model directory."""
    run = tmp_path_factory.mktemp("trained") / "run"
    return train(tiny_config(flat_data, run), progress=False)
