from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from slidewatch.data.layout import discover
from slidewatch.data.splits import read_split
from slidewatch.errors import ConfigError, DatasetError, RegistryError
from slidewatch.losses import build_loss
from slidewatch.models.modelfile import load_model, read_spec
from slidewatch.models.registry import build_model
from slidewatch.training.config import TrainConfig
from slidewatch.training.loggers import build_logger, logger_available
from slidewatch.training.task import SegmentationTask
from slidewatch.training.train import resolve_precision, train

from .conftest import tiny_config


def test_run_dir_holds_model_config_split_checkpoints_and_logs(trained: Path) -> None:
    run = trained.parent
    assert trained == run / "model"
    # model.onnx is the engine's cached graph, written beside the weights by later tests
    names = {p.name for p in trained.iterdir()} - {"model.onnx"}
    assert names == {"model.json", "model.safetensors"}
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert len(list((run / "checkpoints").glob("best-*.ckpt"))) == 1
    assert TrainConfig.from_yaml(run / "config.yaml").epochs == 2
    split = json.loads((run / "split.json").read_text())
    assert len(split["train"]) == 8 and len(split["val"]) == 2
    assert not set(split["train"]) & set(split["val"])
    with open(run / "logs" / "version_0" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    logged = {k for r in rows for k, v in r.items() if v}
    assert {"train_loss", "val_loss", "val_f1", "val_iou", "train_f1"} <= logged


def test_model_spec_records_bands_normalisation_training_and_metrics(trained: Path) -> None:
    spec = read_spec(trained)
    assert spec.architecture == "unet" and spec.options == {"base_width": 8}
    assert spec.bands == ("B2", "B3", "B4", "B8", "slope", "dem")
    assert spec.normalization.method == "minmax" and spec.normalization.bands == spec.bands
    t = spec.training
    assert (t["n_train"], t["n_val"], t["epochs_run"], t["seed"]) == (8, 2, 2, 42)
    assert t["best_epoch"] in (1, 2)
    assert 0.0 < t["landslide_fraction"] < 0.2
    assert t["beta"] == pytest.approx((1 - t["landslide_fraction"]) / t["landslide_fraction"])
    assert t["data_sources"] == ["gen"]
    assert {"f1", "iou", "precision", "recall", "loss", "wce_loss", "dice_loss"} <= set(
        spec.metrics
    )
    assert spec.metrics["n_patches"] == 2


def test_saved_weights_are_the_best_checkpoints(trained: Path) -> None:
    run = trained.parent
    best = next((run / "checkpoints").glob("best-*.ckpt"))
    state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
    model, _ = load_model(trained)
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[f"model.{name}"]), name


def test_fast_dev_run_and_explicit_beta(tmp_path: Path, flat_data: Path) -> None:
    config = tiny_config(flat_data, tmp_path / "run", fast_dev_run=True, beta=7.0, bands="all14")
    spec = read_spec(train(config, progress=False))
    assert spec.training["beta"] == 7.0 and len(spec.bands) == 14


def test_resume_continues_from_last_checkpoint(tmp_path: Path, flat_data: Path) -> None:
    run = tmp_path / "run"
    first, _ = load_model(train(tiny_config(flat_data, run, epochs=1), progress=False))
    split_before = (run / "split.json").read_text()
    # Resuming a finished 1-epoch run trains nothing: the weights stay those of the first
    # run (a fresh run with another seed would give other weights).
    again, _ = load_model(train(tiny_config(flat_data, run, epochs=1, resume=True, seed=7), False))
    for (name, a), b in zip(first.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    spec = read_spec(train(tiny_config(flat_data, run, epochs=3, resume=True, seed=7), False))
    assert spec.training["epochs_run"] == 3
    assert (run / "split.json").read_text() == split_before  # the interrupted run's split
    trained_epochs = []
    for version in range(3):  # one log folder per session, the first one kept intact
        with open(run / "logs" / f"version_{version}" / "metrics.csv") as f:
            trained_epochs += [r["epoch"] for r in csv.DictReader(f) if r.get("train_loss")]
    assert trained_epochs == ["0", "1", "2"]


def test_official_split_trains_on_train_and_validates_on_val(
    tmp_path: Path, official_data: Path
) -> None:
    run = tmp_path / "run"
    spec = read_spec(train(tiny_config(official_data, run, split="official"), progress=False))
    parts = read_split(run / "split.json", discover(official_data))
    assert {r.split for r in parts["train"]} == {"train"}
    assert {r.split for r in parts["val"]} == {"val"}
    assert spec.training["n_val"] == len(parts["val"])


def test_two_datasets_keep_their_sources(
    tmp_path: Path, flat_data: Path, official_data: Path
) -> None:
    spec = read_spec(
        train(tiny_config([flat_data, official_data], tmp_path / "r", epochs=1), progress=False)
    )
    assert spec.training["data_sources"] == ["L4S", "gen"]
    assert spec.training["n_train"] + spec.training["n_val"] == 20


def test_cache_dir_is_built_and_used(tmp_path: Path, flat_data: Path) -> None:
    cache = tmp_path / "cache"
    config = tiny_config(flat_data, tmp_path / "run", epochs=1, cache_dir=str(cache))
    spec = read_spec(train(config, progress=False))
    assert (cache / "index.json").is_file()
    assert spec.training["n_train"] == 8


@pytest.mark.parametrize("method", ["standard", "percentiles", "none"])
def test_normalisation_options_with_augmentation(
    tmp_path: Path, flat_data: Path, method: str
) -> None:
    config = tiny_config(flat_data, tmp_path / "r", epochs=1, normalization=method, augment=True)
    norm = read_spec(train(config, progress=False)).normalization
    expected = {"standard": "standard", "percentiles": "minmax", "none": "none"}[method]
    assert norm.method == expected
    assert norm.percentiles == ((1.0, 99.0) if method == "percentiles" else None)


def test_unknown_model_is_a_registry_error(tmp_path: Path, flat_data: Path) -> None:
    with pytest.raises(RegistryError, match="unet-resnet34"):
        train(tiny_config(flat_data, tmp_path / "r", arch="vgg", arch_options={}), False)
    assert not (tmp_path / "r").exists()  # failed before writing anything


def test_too_few_labelled_patches(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError):
        train(tiny_config(tmp_path / "empty", tmp_path / "r"), progress=False)


def test_precision_is_mixed_only_on_gpu() -> None:
    assert resolve_precision(TrainConfig(device="cpu")) == "32-true"
    assert resolve_precision(TrainConfig(device="cuda")) == "16-mixed"
    assert resolve_precision(TrainConfig(device="cuda", precision="bf16-mixed")) == "bf16-mixed"


def test_csv_logger_and_missing_logger_packages(tmp_path: Path) -> None:
    assert build_logger("csv", tmp_path).log_dir.startswith(str(tmp_path))
    for name in ("tensorboard", "wandb", "mlflow"):
        if logger_available(name):
            assert build_logger(name, tmp_path) is not None
        else:
            with pytest.raises(ConfigError, match="pip install"):
                build_logger(name, tmp_path)


@pytest.mark.skipif(not logger_available("tensorboard"), reason="tensorboard is not installed")
def test_tensorboard_run(tmp_path: Path, flat_data: Path) -> None:
    train(tiny_config(flat_data, tmp_path / "r", epochs=1, logger="tensorboard"), False)
    assert list((tmp_path / "r" / "logs").rglob("events.out.tfevents.*"))


def test_task_steps_the_learning_rate_every_n_epochs() -> None:
    task = SegmentationTask(
        build_model("unet", 3, base_width=8),
        build_loss("dice"),
        lr=0.01,
        lr_step_epochs=2,
        lr_gamma=0.5,
    )
    conf = task.configure_optimizers()
    optimizer, scheduler = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(5):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(lrs, [0.01, 0.01, 0.005, 0.005, 0.0025])


@pytest.mark.parametrize("logger", ["wandb", "mlflow"])
def test_offline_experiment_loggers(tmp_path: Path, flat_data: Path, logger: str) -> None:
    if not logger_available(logger):
        pytest.skip(f"{logger} is not installed")
    train(tiny_config(flat_data, tmp_path / "r", epochs=1, logger=logger), False)
    written = {p.name for p in (tmp_path / "r").rglob("*")}
    marker = "mlruns" if logger == "mlflow" else "wandb"
    assert marker in written, sorted(written)[:20]
