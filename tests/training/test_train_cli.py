from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slidewatch.bands import BAND_SETS
from slidewatch.cli import cli
from slidewatch.models.modelfile import read_spec
from slidewatch.synthetic import make_l4s_dataset

TINY = ["--arch-option", "base_width=8", "--batch-size", "4", "--quiet"]


def invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def test_train_from_options_then_evaluate(tmp_path: Path, flat_data: Path) -> None:
    run = tmp_path / "run"
    code, output = invoke(
        [
            "train",
            "--data",
            str(flat_data),
            "--arch",
            "unet",
            "--bands",
            "six10m",
            "--loss",
            "wce-dice",
            "--alpha",
            "0.3",
            "--beta",
            "5",
            "--epochs",
            "1",
            "--out",
            str(run),
            *TINY,
        ]
    )
    assert code == 0, output
    spec = read_spec(run / "model")
    assert spec.training["config"]["alpha"] == 0.3 and spec.training["beta"] == 5.0
    assert len(spec.bands) == 6
    metrics = tmp_path / "metrics.json"
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(run / "model"),
            "--data",
            str(flat_data),
            "--split",
            "val",
            "--out",
            str(metrics),
            "--figure",
            str(tmp_path / "f.png"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(metrics.read_text())["n_patches"] == 2
    assert json.loads(result.stdout)["split"] == "val"
    assert "scored 2 patches: the val split of" in result.stderr
    assert (tmp_path / "f.png").is_file()


def test_cli_options_override_the_yaml(tmp_path: Path, flat_data: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": [str(flat_data)],
                "epochs": 5,
                "bands": "rgb",
                "arch_options": {"base_width": 8},
                "seed": 3,
            }
        )
    )
    run = tmp_path / "run"
    code, output = invoke(
        [
            "train",
            "--config",
            str(config),
            "--epochs",
            "1",
            "--out",
            str(run),
            "--quiet",
            "--batch-size",
            "4",
        ]
    )
    assert code == 0, output
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert (resolved["epochs"], resolved["bands"], resolved["seed"]) == (1, "rgb", 3)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--arch", "vgg16"], "unknown model 'vgg16'"),
        (["--bands", "six20m"], "six20m"),
        (["--loss", "focal"], "'focal' is not one of"),
        (["--beta", "many"], "not a number"),
        (["--arch-option", "depth=3"], "depth"),
    ],
)
def test_bad_training_input_is_a_clean_error(
    tmp_path: Path, flat_data: Path, args: list[str], expected: str
) -> None:
    code, output = invoke(
        [
            "train",
            "--data",
            str(flat_data),
            "--out",
            str(tmp_path / "r"),
            "--epochs",
            "1",
            "--quiet",
            *args,
        ]
    )
    assert code == 2, output
    assert expected in output and "Traceback" not in output


def test_evaluate_bad_model_dir_and_band_mismatch(
    tmp_path: Path, trained: Path, flat_data: Path
) -> None:
    code, output = invoke(["evaluate", "--model", str(tmp_path / "none"), "--data", str(flat_data)])
    assert code == 2 and "no such model directory" in output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text("{not json")
    code, output = invoke(["evaluate", "--model", str(broken), "--data", str(flat_data)])
    assert code == 2 and "not valid JSON" in output
    make_l4s_dataset(tmp_path / "rgb", n=2, bands="rgb")
    code, output = invoke(["evaluate", "--model", str(trained), "--data", str(tmp_path / "rgb")])
    assert code == 2 and "needs bands" in output and "Traceback" not in output


def test_train_without_data_is_a_clean_error() -> None:
    code, output = invoke(["train", "--epochs", "1"])
    assert code == 2 and "--data" in output


def test_help_shows_every_default_and_every_named_band_set() -> None:
    code, output = invoke(["train", "--help"])
    assert code == 0
    text = " ".join(output.split()).replace("- ", "-")  # click may wrap at a hyphen
    for shown in (
        "[default: runs/run]", "[default: unet]", "[default: all14]", "[default: wce-dice]",
        "[default: auto]", "[default: 100; x>=1]", "[default: no-augment]",
        "[auto|cpu|cuda]", "[bce|wce|dice|wce-dice]", "[csv|tensorboard|wandb|mlflow]",
    ):  # fmt: skip
        assert shown in text, shown
    for band_set in (
        "all14",
        "six10m: B2,B3,B4,B8,slope,dem",
        "rgb: B4,B3,B2",
        "rgbn: B4,B3,B2,B8",
    ):
        assert band_set in text, band_set
    assert "--accelerator" not in text and "--model " not in text
    for command in (["experiments", "--help"], ["demo", "--help"]):
        assert "--device [auto|cpu|cuda]" in invoke(command)[1]
    for command in (["data", "stats", "--help"], ["data", "normalization", "--help"]):
        listed = " ".join(invoke(command)[1].split())
        assert all(name in listed for name in BAND_SETS), command


def test_evaluate_warns_when_it_scores_training_patches(trained: Path, flat_data: Path) -> None:
    args = ["evaluate", "--model", str(trained), "--data", str(flat_data), "--quiet"]
    honest = CliRunner().invoke(cli, args)
    assert honest.exit_code == 0, honest.output
    assert "scored 2 patches: the validation split of the model's run" in honest.stderr
    assert "Warning" not in honest.stderr
    flattering = CliRunner().invoke(cli, [*args, "--split", "all"])
    assert flattering.exit_code == 0, flattering.output
    assert "Warning: 8 of the 10 scored patches were training patches" in flattering.stderr
    assert json.loads(flattering.stdout)["training_patches_scored"] == 8
