"""What ``slidewatch train`` prints and leaves behind: refusals before anything is written,
one line per epoch into files, a closing summary, no Lightning chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.synthetic import make_l4s_dataset

TINY = ["--arch-option", "base_width=8", "--batch-size", "4", "--bands", "six10m"]


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--epochs", "2", *TINY, *extra]


def test_a_run_folder_holding_files_is_refused_without_resume(
    tmp_path: Path, flat_data: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("another run")
    result = CliRunner().invoke(cli, train_args(flat_data, run))
    assert result.exit_code == 2, result.output
    assert "is not empty" in result.output and "notes.txt" in result.output
    assert "--resume" in result.output and "another --out" in result.output
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]


def test_every_missing_band_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    rgb = tmp_path / "rgb"
    make_l4s_dataset(rgb, n=4, size=32, bands="rgb")
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, train_args(rgb, run))
    assert result.exit_code == 2, result.output
    message = result.output.replace("\n", " ")
    assert "lacks B8, slope, dem (it holds B4, B3, B2)" in message  # all three, not the first
    assert not run.exists()


def test_bands_are_checked_before_torch_is_imported(tmp_path: Path) -> None:
    rgb = tmp_path / "rgb"
    make_l4s_dataset(rgb, n=2, size=32, bands="rgb")
    code = (
        "import sys\n"
        "from slidewatch.cli import main\n"
        "try:\n"
        f"    main(['train', '--data', {str(rgb)!r}, '--bands', 'six10m', '--out', "
        f"{str(tmp_path / 'run')!r}])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('torch imported:', 'torch' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "exit 2" in done.stdout, done.stderr
    assert "torch imported: False" in done.stdout
    assert "lacks" in done.stderr


def test_a_failed_start_leaves_nothing_behind(tmp_path: Path) -> None:
    # Masks without a landslide pixel: beta 'auto' cannot be derived, after the split was made.
    empty = tmp_path / "empty"
    make_l4s_dataset(empty, n=4, size=32, landslide_fraction=0.0)
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, train_args(empty, run))
    assert result.exit_code == 2, result.output
    assert "landslide fraction" in result.output
    assert not run.exists()


def test_output_into_a_file_is_one_line_per_epoch_and_a_summary(
    tmp_path: Path, flat_data: Path
) -> None:
    result = CliRunner().invoke(cli, train_args(flat_data, tmp_path / "run"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "\r" not in out
    assert "epoch 1/2" in out and "epoch 2/2" in out
    assert "val wce-dice loss" in out and "val dice loss" in out
    assert "Tip" not in out and "litlogger" not in out and "GPU available" not in out
    assert "Trainable params" not in out  # the layer table is for --verbose
    lines = out.splitlines()
    if lines[-1].startswith("Warning: the best model"):  # F1 0 after 2 epochs: said so
        lines = lines[:-1]
    assert lines[-3].startswith("slidewatch train: 2 epochs run, best epoch ")
    assert "precision" in lines[-2] and "F1" in lines[-2] and "IoU" in lines[-2]
    assert "threshold 0.5" in lines[-2]
    assert lines[-1] == f"  model: {tmp_path / 'run' / 'model'}"


def test_quiet_keeps_only_the_summary_and_verbose_adds_the_layer_table(
    tmp_path: Path, flat_data: Path
) -> None:
    quiet = CliRunner().invoke(cli, train_args(flat_data, tmp_path / "q", "--quiet"))
    assert quiet.exit_code == 0, quiet.output
    assert "epoch 1/2" not in quiet.output
    assert quiet.output.splitlines()[0].startswith("slidewatch train: 2 epochs run")
    verbose = CliRunner().invoke(
        cli, train_args(flat_data, tmp_path / "v", "--quiet", "--verbose", "--epochs", "1")
    )
    assert verbose.exit_code == 0, verbose.output
    assert "Trainable params" in verbose.output
