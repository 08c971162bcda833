"""Fixtures of the model tests: a tiny saved model directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from slidewatch.bands import BAND_SETS
from slidewatch.data.normalization import normalization_from_arrays
from slidewatch.models.modelfile import ModelSpec, save_model
from slidewatch.models.registry import build_model

TINY_OPTIONS: dict[str, dict[str, object]] = {"unet": {"base_width": 8}}
"""Options that make each architecture small enough for CPU tests (others: as registered)."""

SIX = BAND_SETS["six10m"]


def save_tiny_model(directory: Path, architecture: str = "unet", seed: int = 0) -> ModelSpec:
    """Save a randomly initialised small model on the six10m bands; return its spec."""
    torch.manual_seed(seed)
    options = TINY_OPTIONS.get(architecture, {})
    model = build_model(architecture, len(SIX), **options)
    norm = normalization_from_arrays(
        "minmax", SIX, minimum=np.linspace(0, 0.5, 6), maximum=np.linspace(2, 5, 6)
    )
    spec = ModelSpec(architecture, dict(options), SIX, norm, threshold=0.4, patch_size=64)
    save_model(directory, model.eval(), spec)
    return spec


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def tiny_model_dir(tmp_path: Path) -> Path:
    """A saved tiny ``unet`` (base width 8, six10m bands, threshold 0.4, patch 64)."""
    directory = tmp_path / "run" / "model"
    save_tiny_model(directory)
    return directory


def l4s_batch(n: int, channels: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Random float32 bands in a plausible L4S range."""
    return np.random.default_rng(seed).uniform(0, 3, (n, channels, height, width)).astype("f4")
