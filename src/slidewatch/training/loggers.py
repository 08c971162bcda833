"""Experiment loggers: CSV by default; TensorBoard, Weights & Biases and MLflow on request.

None of them needs a network: W&B runs in offline mode (``WANDB_MODE=offline`` unless the
user set it) and MLflow writes a file store under ``RUN_DIR/mlruns``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from lightning.pytorch.loggers import Logger

from slidewatch.errors import ConfigError, unknown_name

# logger name -> Python package it needs
REQUIRED_PACKAGE = {"csv": None, "tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def logger_available(name: str) -> bool:
    """Whether the package behind logger ``name`` is installed."""
    package = REQUIRED_PACKAGE.get(name)
    return package is None or importlib.util.find_spec(package) is not None


def build_logger(name: str, run_dir: Path, run_name: str = "run") -> Logger:
    """The Lightning logger ``name`` writing under ``run_dir``."""
    if name not in REQUIRED_PACKAGE:
        raise unknown_name("logger", name, tuple(REQUIRED_PACKAGE))
    if not logger_available(name):
        package = REQUIRED_PACKAGE[name]
        raise ConfigError(
            f"logger {name!r} needs the Python package {package!r}, which is not installed; "
            f"install it (pip install {package}) or use logger: csv"
        )
    from lightning.pytorch import loggers

    if name == "csv":
        # A new version_N folder per (resumed) session keeps earlier logs intact.
        return loggers.CSVLogger(save_dir=run_dir, name="logs")
    if name == "tensorboard":
        return loggers.TensorBoardLogger(save_dir=run_dir, name="logs")
    if name == "wandb":
        os.environ.setdefault("WANDB_MODE", "offline")
        return loggers.WandbLogger(name=run_name, save_dir=str(run_dir), offline=True)
    # MLflow ≥ 3 refuses new file stores unless told; a file store needs no server or database.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return loggers.MLFlowLogger(
        experiment_name="slidewatch", run_name=run_name, tracking_uri=f"file:{run_dir / 'mlruns'}"
    )
