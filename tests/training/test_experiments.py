from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from slidewatch.cli import cli
from slidewatch.errors import ConfigError
from slidewatch.synthetic import make_l4s_dataset
from slidewatch.training.evaluate import evaluate
from slidewatch.training.experiments import GridConfig, grid_file, plan_runs
from slidewatch.training.results import COLUMNS, metrics_row

FAST = ["--set", "epochs=1", "--set", "batch_size=4", "--model-option", "unet.base_width=8"]


def run_cli(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path) as f:
        return list(csv.DictReader(f))


def test_smoke_grid_writes_tables_and_skips_finished_runs(tmp_path: Path) -> None:
    make_l4s_dataset(tmp_path / "data" / "smoke", n=8, seed=5)
    out = tmp_path / "out"
    args = ["experiments", "smoke", "--data-root", str(tmp_path / "data"), "--out", str(out)]
    run_cli([*args, "--quiet"])
    rows = read_csv(out / "results.csv")
    assert [(r["dataset"], r["bands"], r["model"]) for r in rows] == [
        ("smoke", "six10m", "unet"),
        ("smoke", "all14", "unet"),
    ]
    for row in rows:
        # Each row is the run's own model scored again on its run's validation split...
        run_dir = out / row["dataset"] / row["bands"] / row["model"]
        again = evaluate(run_dir / "model", [tmp_path / "data" / "smoke"], progress=False)
        assert again["split"] == "val" and again["n_patches"] == 2
        expected = metrics_row(again)
        for column in COLUMNS:
            assert float(row[column]) == pytest.approx(expected[column], abs=2e-6), column
        # ...and the columns agree with each other (alpha 0.5 in the smoke grid).
        p, r, f1 = (float(row[c]) for c in ("Precision", "Recall", "F1"))
        assert f1 == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=1e-5)
        wce, dice = float(row["WCE"]), float(row["Dice"])
        assert float(row["Dice-WCE"]) == pytest.approx(0.5 * wce + 0.5 * dice, abs=1e-5)
        assert wce > 0.0 and 0.0 < dice <= 1.0
    markdown = (out / "results.md").read_text()
    assert "## smoke" in markdown and "### bands: six10m" in markdown
    assert "| model | F1 | Precision | Recall | IoU | Dice-WCE | WCE | Dice |" in markdown
    with Image.open(out / "results.png") as image:
        assert image.format == "PNG"
    model_json = out / "smoke" / "six10m" / "unet" / "model" / "model.json"
    before = model_json.stat().st_mtime_ns
    run_cli([*args, "--quiet"])
    assert model_json.stat().st_mtime_ns == before  # finished runs are skipped
    assert read_csv(out / "results.csv") == rows
    # A run interrupted during evaluation is evaluated again, not retrained.
    run_dir = out / "smoke" / "all14" / "unet"
    trained_at = (run_dir / "model" / "model.safetensors").stat().st_mtime_ns
    (run_dir / "metrics.json").unlink()
    run_cli([*args, "--quiet"])
    assert (run_dir / "metrics.json").is_file()
    assert (run_dir / "model" / "model.safetensors").stat().st_mtime_ns == trained_at
    assert read_csv(out / "results.csv") == rows


def test_paper_grid_shrunk_on_generated_data(tmp_path: Path) -> None:
    grid = GridConfig.from_yaml(grid_file("paper"))
    runs = plan_runs(grid, tmp_path, tmp_path / "data")
    assert len(runs) == 16  # {L4S, L4S+L4S-PE} x {all14, six10m} x four models
    assert {r.model for r in runs} == {"unet", "unet-resnet34", "unet-mobilenetv2", "segformer"}
    assert runs[-1].config.data == (
        str(tmp_path / "data" / "L4S"),
        str(tmp_path / "data" / "L4S-PE"),
    )
    make_l4s_dataset(tmp_path / "data" / "L4S", n=6, seed=1)
    make_l4s_dataset(tmp_path / "data" / "L4S-PE", n=6, seed=2)
    out = tmp_path / "out"
    run_cli(
        [
            "experiments",
            "paper.yaml",
            "--data-root",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--only-bands",
            "six10m",
            "--only-models",
            "unet",
            "--quiet",
            *FAST,
        ]
    )
    rows = read_csv(out / "results.csv")
    assert [r["dataset"] for r in rows] == ["L4S", "L4S+L4S-PE"]
    assert "## L4S+L4S-PE" in (out / "results.md").read_text()


def test_leaderboard_grid_evaluates_official_val_and_test(tmp_path: Path) -> None:
    make_l4s_dataset(tmp_path / "data" / "L4S", layout="official", n=10, seed=6)
    out = tmp_path / "out"
    run_cli(
        [
            "experiments",
            "leaderboard",
            "--data-root",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--only-models",
            "unet",
            "--quiet",
            *FAST,
        ]
    )
    rows = read_csv(out / "results.csv")
    assert [(r["model"], r["split"]) for r in rows] == [("unet", "val"), ("unet", "test")]
    assert "evaluated on test" in (out / "results.md").read_text()


def test_grid_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid keys"):
        GridConfig.from_dict(
            {"datasets": {"a": ["a"]}, "bands": ["all14"], "models": ["unet"], "epochs": 3}
        )
    with pytest.raises(ConfigError, match="learning_rate"):
        GridConfig.from_dict(
            {
                "datasets": {"a": "a"},
                "bands": ["all14"],
                "models": ["unet"],
                "train": {"learning_rate": 3},
            }
        )
    result = CliRunner().invoke(cli, ["experiments", "smoke", "--only-models", "vgg"])
    assert result.exit_code == 2 and "Error:" in result.output and "vgg" in result.output
    result = CliRunner().invoke(cli, ["experiments", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such grid file" in result.output
