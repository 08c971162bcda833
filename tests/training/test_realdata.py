"""A short training run on 15 real L4S patches (skipped when ../shared/data is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from slidewatch.training.evaluate import evaluate
from slidewatch.training.train import train

from .conftest import tiny_config

pytestmark = pytest.mark.realdata


def test_short_training_on_real_patches_learns(tmp_path: Path, shared_data: Path) -> None:
    data = shared_data / "l4s-real"
    run = tmp_path / "run"
    # 20 epochs of 12 patches, a width-8 U-Net on the six 10 m bands: ~10-20 s on 2 cores.
    config = tiny_config(data, run, epochs=20, patience=0)
    model_dir = train(config, progress=False)
    with open(run / "logs" / "version_0" / "metrics.csv") as f:
        losses = [float(r["train_loss"]) for r in csv.DictReader(f) if r.get("train_loss")]
    assert len(losses) == 20
    assert min(losses[-3:]) < 0.9 * losses[0]  # the training loss falls
    result = evaluate(model_dir, [data], split="train", progress=False)
    assert result["n_patches"] == 12
    # A model predicting nothing scores F1 0; one predicting everything about 0.08.
    assert result["pixel"]["f1"] > 0.25, result["pixel"]
