"""Training throughput per model: the real data pipeline vs pure compute, in one run.

For each registered model (small batch, a few steps) this measures, on this machine:

- ``pure``: forward + backward + Adam step on random tensors already in memory;
- ``pipeline``: the same steps inside Lightning's loop (the :class:`SegmentationTask`)
  fed by a DataLoader over a generated L4S dataset, with min-max normalisation and
  flip/rot90 augmentation (HDF5 reads included);

and prints patches/s for both and their ratio. Goal: the pipeline costs < 10 %
(ratio > 0.90). Both are measured ``--repeats`` times, interleaved, and the best rate of
each is kept, so that other load on the machine disturbs the ratio less. Usage::

    python bench/bench_training.py [--steps 6] [--batch-size 4] [--models unet,segformer]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader

from slidewatch.data.dataset import PatchDataset
from slidewatch.data.layout import discover
from slidewatch.data.stats import compute_normalization
from slidewatch.losses import build_loss
from slidewatch.models.registry import build_model, model_names
from slidewatch.synthetic import make_l4s_dataset
from slidewatch.training.task import SegmentationTask

WARMUP = 2


class StepTimer(pl.Callback):
    """Wall time from the start of step WARMUP to the end of the last step."""

    def __init__(self) -> None:
        self.start = 0.0
        self.end = 0.0

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == WARMUP:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.end = time.perf_counter()


def pure_rate(name: str, bands: int, batch: int, steps: int) -> float:
    """Patches/s of forward+backward+step on in-memory random tensors."""
    torch.manual_seed(0)
    task = SegmentationTask(build_model(name, bands), build_loss("wce-dice", beta=20.0))
    optimizer = task.configure_optimizers()["optimizer"]
    x = torch.randn(batch, bands, 128, 128)
    y = (torch.rand(batch, 128, 128) < 0.05).long()
    task.train()
    for i in range(steps):
        if i == WARMUP:
            start = time.perf_counter()
        optimizer.zero_grad()
        task.loss(task(x), y).backward()
        optimizer.step()
    return batch * (steps - WARMUP) / (time.perf_counter() - start)


def pipeline_rate(name: str, root: Path, batch: int, steps: int) -> float:
    """Patches/s of the Lightning loop over the real data pipeline."""
    torch.manual_seed(0)
    refs = discover(root)
    norm = compute_normalization(refs, "all14", method="minmax")
    dataset = PatchDataset(refs, bands="all14", normalization=norm, augment=True)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True)
    task = SegmentationTask(build_model(name, 14), build_loss("wce-dice", beta=20.0))
    timer = StepTimer()
    trainer = pl.Trainer(
        max_steps=steps,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        accelerator="cpu",
    )
    trainer.fit(task, train_dataloaders=loader)
    return batch * (steps - WARMUP) / (timer.end - timer.start)


def main() -> None:
    """Print one line per model and the pipeline/pure ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--models", default=",".join(model_names()))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        make_l4s_dataset(root, n=args.steps * args.batch_size, seed=0)
        print(
            f"torch threads: {torch.get_num_threads()}, batch {args.batch_size}, "
            f"{args.steps - WARMUP} timed steps"
        )
        print(f"{'model':18s} {'pure p/s':>9s} {'pipeline p/s':>13s} {'ratio':>6s}")
        for name in args.models.split(","):
            pure = pipe = 0.0
            for _ in range(args.repeats):
                pure = max(pure, pure_rate(name, 14, args.batch_size, args.steps))
                pipe = max(pipe, pipeline_rate(name, root, args.batch_size, args.steps))
            print(f"{name:18s} {pure:9.2f} {pipe:13.2f} {pipe / pure:6.2f}")


if __name__ == "__main__":
    main()
