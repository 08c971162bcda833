"""The training entry point: configuration in, model directory out.

``RUN_DIR`` receives ``config.yaml`` (the resolved configuration), ``split.json``,
``checkpoints/`` (Lightning's own ``.ckpt`` files, for resuming), ``logs/`` and the
deliverable ``model/`` (safetensors + JSON) written from the checkpoint with the lowest
validation loss.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from slidewatch.data.contract import patch_band_stats
from slidewatch.data.hdf5 import read_mask
from slidewatch.losses import build_loss
from slidewatch.models.modelfile import ModelSpec, save_model
from slidewatch.models.registry import build_model
from slidewatch.training.config import LIGHTNING_ACCELERATOR, TrainConfig
from slidewatch.training.datamodule import PatchDataModule, PreparedData, prepare_data
from slidewatch.training.init_from import load_init_weights
from slidewatch.training.loggers import build_logger
from slidewatch.training.preflight import preflight
from slidewatch.training.progress import EpochLines, lightning_chatter, progress_style
from slidewatch.training.task import SegmentationTask

# Lightning 2.6 warns about its own use of torch's pytree API on every fit; not actionable.
warnings.filterwarnings("ignore", message=r".*LeafSpec.* is deprecated", category=Warning)

BEST_NAME = "best-{epoch:03d}"


def resolve_precision(config: TrainConfig) -> str:
    """``16-mixed`` on GPU when precision is ``auto``, else full precision."""
    if config.precision != "auto":
        return config.precision
    on_gpu = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    return "16-mixed" if on_gpu else "32-true"


def build_task(config: TrainConfig, model: torch.nn.Module, beta: float) -> SegmentationTask:
    """The Lightning task around ``model`` with the configured loss and optimiser."""
    loss = build_loss(config.loss, alpha=config.alpha, beta=beta)
    return SegmentationTask(
        model,
        loss,
        beta=beta,
        lr=config.lr,
        lr_step_epochs=config.lr_step_epochs,
        lr_gamma=config.lr_gamma,
        threshold=config.threshold,
    )


def build_trainer(
    config: TrainConfig, run_dir: Path, progress: bool, verbose: bool = False
) -> tuple[pl.Trainer, ModelCheckpoint]:
    """A Lightning trainer with checkpointing (lowest val loss + last) and early stopping.

    Progress is Lightning's bar on a terminal and one line per epoch elsewhere (a log file
    gets no carriage-return noise); the layer table only when ``verbose``.
    """
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename=BEST_NAME,
        auto_insert_metric_name=False,
        monitor="val_loss",
        mode="min",
        save_top_k=1,
        save_last=True,
    )
    callbacks: list[pl.Callback] = [checkpoint]
    if config.patience > 0:
        callbacks.append(EarlyStopping(monitor="val_loss", mode="min", patience=config.patience))
    style = progress_style(progress)
    if style == "lines":
        callbacks.append(EpochLines(config.loss))
    trainer = pl.Trainer(
        max_epochs=config.epochs,
        accelerator=LIGHTNING_ACCELERATOR[config.device],
        devices=config.num_devices,
        strategy=config.strategy,
        precision=resolve_precision(config),  # type: ignore[arg-type]
        logger=build_logger(config.logger, run_dir, run_name=run_dir.name),
        callbacks=callbacks,
        default_root_dir=run_dir,
        enable_progress_bar=style == "bar",
        enable_model_summary=verbose,
        fast_dev_run=config.fast_dev_run,
        log_every_n_steps=1,
    )
    return trainer, checkpoint


def best_epoch(checkpoint_path: str) -> int | None:
    """The 1-based epoch of a ``best-NNN.ckpt`` file (None when unknown)."""
    match = re.search(r"best-(\d+)", Path(checkpoint_path).name)
    return int(match.group(1)) + 1 if match else None


def training_summary(
    config: TrainConfig, data: PreparedData, trainer: pl.Trainer, best: str
) -> dict[str, Any]:
    """The training record stored in the model file."""
    early = trainer.early_stopping_callback
    return {
        "data_dirs": list(config.data),
        "data_sources": sorted({r.source for r in data.train + data.val}),
        "n_train": len(data.train),
        "n_val": len(data.val),
        "landslide_fraction": data.landslide_fraction,
        "beta": data.beta,
        "epochs_run": int(trainer.current_epoch),
        "best_epoch": best_epoch(best),
        "stopped_early": bool(early is not None and early.stopped_epoch > 0),
        "seed": config.seed,
        "init_from": _init_record(config),
        "config": config.to_dict(),
    }


def _init_record(config: TrainConfig) -> dict[str, Any] | None:
    """The model a fine-tuning run started from: folder and hash (its lineage)."""
    if not config.init_from:
        return None
    from slidewatch.models.identity import model_hash

    return {"path": str(Path(config.init_from).resolve()), "hash": model_hash(config.init_from)}


def validation_metrics(
    results: Sequence[Mapping[str, float]], n_val: int, loss_name: str
) -> dict[str, Any]:
    """``val_*`` numbers logged by the task, without the prefix (``loss`` is ``loss_name``)."""
    logged = results[0] if results else {}
    metrics: dict[str, Any] = {"split": "val", "n_patches": n_val, "loss_name": loss_name}
    metrics.update({k.removeprefix("val_"): float(v) for k, v in logged.items()})
    return metrics


def train(config: TrainConfig, progress: bool = True, verbose: bool = False) -> Path:
    """Train one model as configured; return the model directory ``RUN_DIR/model``.

    Refuses a RUN_DIR holding files unless ``config.resume``; a run that fails before its
    first checkpoint removes what it wrote (a fresh RUN_DIR is left as it was found).
    """
    preflight(config)
    run_dir = Path(config.out)
    fresh = not run_dir.exists() or not any(run_dir.iterdir())
    existed = run_dir.exists()
    try:
        with lightning_chatter(verbose):
            return _train(config, run_dir, progress, verbose)
    except BaseException:
        if fresh and not any((run_dir / "checkpoints").glob("*.ckpt")):
            _remove_run(run_dir, keep_folder=existed)
        raise


def _remove_run(run_dir: Path, keep_folder: bool) -> None:
    if not run_dir.exists():
        return
    if not keep_folder:
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    for child in run_dir.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _train(config: TrainConfig, run_dir: Path, progress: bool, verbose: bool) -> Path:
    pl.seed_everything(config.seed, workers=True, verbose=False)
    # The model first: a bad name or option fails before any data is read or written.
    model = build_model(config.arch, len(config.band_names), **config.arch_options)
    start = load_init_weights(model, config)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = prepare_data(config, run_dir)
    if start is not None:  # the weights learnt on inputs scaled the starting model's way
        data = dataclasses.replace(data, normalization=start.normalization)
    config.to_yaml(run_dir / "config.yaml")
    task = build_task(config, model, data.beta)
    datamodule = PatchDataModule(config, data)
    trainer, checkpoint = build_trainer(config, run_dir, progress, verbose)
    last = run_dir / "checkpoints" / "last.ckpt"
    resume_from = str(last) if config.resume and last.exists() else None
    trainer.fit(task, datamodule=datamodule, ckpt_path=resume_from)
    best = checkpoint.best_model_path
    # validate() with the best checkpoint loads its weights into the task.
    results = trainer.validate(task, datamodule=datamodule, ckpt_path=best or None, verbose=verbose)
    spec = ModelSpec(
        architecture=config.arch,
        options=dict(config.arch_options),
        bands=data.bands,
        normalization=data.normalization,
        threshold=config.threshold,
        patch_size=int(read_mask(data.train[0].mask).shape[0]) if data.train[0].mask else 128,
        training=training_summary(config, data, trainer, best),
        metrics=validation_metrics(results, len(data.val), config.loss),
        band_stats=patch_band_stats(data.train, data.bands),  # the data contract
    )
    model_dir = run_dir / "model"
    if trainer.is_global_zero:
        save_model(model_dir, task.model.cpu(), spec)
    return model_dir
