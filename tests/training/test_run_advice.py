"""Issue 21, item 4: a run whose best model finds nothing on the validation split says so at
the end, and what to try, instead of a bare ``F1 0.000``."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.models.modelfile import read_spec
from slidewatch.training.run_advice import run_advice

TINY = ["--arch-option", "base_width=8", "--batch-size", "4", "--bands", "six10m"]


def test_train_says_when_the_best_model_predicts_no_landslide(
    tmp_path: Path, flat_data: Path
) -> None:
    config = tmp_path / "strict.yaml"
    config.write_text(yaml.safe_dump({"threshold": 0.999}))  # nothing is that sure in 1 epoch
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "train", "--config", str(config), "--data", str(flat_data), "--out", str(run),
        "--epochs", "1", "--quiet", *TINY,
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = read_spec(run / "model").metrics
    assert metrics["f1"] == 0.0 and metrics["predicted_fraction"] == 0.0
    assert metrics["target_fraction"] > 0.0
    text = " ".join(result.output.split())
    assert "F1 0.000" in text
    assert "Warning: the best model predicts no landslide on the 2 validation patches" in text
    assert "(threshold 0.999)" in text
    for hint in ("--epochs", "--calibrate", "--beta", "slidewatch data check"):
        assert hint in text, hint


def test_advice_tells_the_three_cases_apart() -> None:
    training = {"epochs_run": 3, "best_epoch": 2, "beta": 1.0, "landslide_fraction": 0.02}
    assert run_advice({"f1": 0.41, "predicted_fraction": 0.02}, training, 0.5) is None
    empty = run_advice({"f1": 0.0, "target_fraction": 0.0, "n_patches": 4}, training, 0.5)
    assert empty is not None and "validation patches hold no landslide pixel" in empty
    missed = run_advice(
        {"f1": 0.0, "predicted_fraction": 0.01, "target_fraction": 0.03}, training, 0.5
    )
    assert missed is not None and "miss every landslide pixel" in missed
    assert "landslide pixels are 2.00% of the training split" in missed
