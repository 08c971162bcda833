"""What training prints: one line per epoch where a progress bar would fill a log with
carriage returns, Lightning's own chatter (tips, hardware lines) only when asked for.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import lightning.pytorch as pl

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")


@contextmanager
def lightning_chatter(verbose: bool) -> Iterator[None]:
    """Lightning's INFO lines (hardware, tips for its cloud products) only when ``verbose``."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    if not verbose:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def progress_style(progress: bool, stream: TextIO | None = None) -> str:
    """``bar`` on a terminal, ``lines`` (one per epoch) into a file or pipe, or ``none``."""
    if not progress:
        return "none"
    stream = stream or sys.stdout
    return "bar" if stream.isatty() else "lines"


def _value(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return None if value is None else float(value)


class EpochLines(pl.Callback):
    """Prints ``epoch 3/20  train loss 0.412  val loss 0.398 ...`` once per epoch."""

    def __init__(self, loss_name: str, stream: TextIO | None = None) -> None:
        self.loss_name = loss_name
        self.stream = stream
        self._start = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start the epoch's clock."""
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """One line with the epoch's losses and validation scores (after validation ran)."""
        if not trainer.is_global_zero or trainer.sanity_checking:
            return
        m = trainer.callback_metrics
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        for label, key in (
            (f"train {self.loss_name} loss", "train_loss"),
            (f"val {self.loss_name} loss", "val_loss"),
            ("val dice loss", "val_dice_loss"),
            ("val F1", "val_f1"),
            ("val IoU", "val_iou"),
        ):
            value = _value(m, key)
            if value is not None:
                parts.append(f"{label} {value:.4f}")
        parts.append(f"{time.perf_counter() - self._start:.1f} s")
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)
