"""Loader throughput: per-file HDF5 PatchDataset vs the memory-mapped cache.

Generates a dataset in a temporary folder, then iterates both datasets through a torch
DataLoader (batch_size 32; num_workers 0 and 2) with selected bands and min-max
normalisation, producing float32 tensors. Prints patches/s and the ratio, measured in the
same run. Run: ``.venv/bin/python bench/bench_loader.py [--n 512] [--bands six10m]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from slidewatch.data.cache import build_cache
from slidewatch.data.cached_dataset import CachedPatchDataset, collate_patches
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.layout import discover
from slidewatch.data.stats import compute_normalization
from slidewatch.synthetic import make_l4s_dataset


def throughput(dataset: Dataset, workers: int, epochs: int, collate: bool = False) -> float:
    """Best patches/s over ``epochs`` timed passes, after one untimed warm-up pass.

    The best pass, as in ``timeit``, because other processes share the 2 cores: both
    loaders are measured the same way, so the ratio stays fair.
    """
    loader = DataLoader(
        dataset,
        batch_size=32,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        collate_fn=collate_patches if collate else None,
    )
    rates = []
    for epoch in range(epochs + 1):
        count, start = 0, time.perf_counter()
        for batch in loader:
            if batch["image"].dtype != torch.float32:
                raise TypeError(f"loader gave {batch['image'].dtype}, expected float32")
            count += batch["image"].shape[0]
        if epoch > 0:
            rates.append(count / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=512, help="patches to generate")
    parser.add_argument("--bands", default="six10m", help="band set or list to load")
    parser.add_argument("--dtype", default="float32", help="cache dtype: float32 or float16")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads in the main process (0: all cores)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        make_l4s_dataset(root, n=args.n, seed=0)
        refs = discover(root)
        norm = compute_normalization(refs, args.bands)
        cache = build_cache(refs, Path(tmp) / "cache", dtype=args.dtype, progress=False)
        per_file = PatchDataset(refs, args.bands, norm)
        cached = CachedPatchDataset(cache, args.bands, norm)
        print(
            f"{args.n} patches, bands {args.bands} ({len(per_file.bands)}), cache {args.dtype}, "
            f"min-max normalised float32, batch 32, torch threads {torch.get_num_threads()}"
        )
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (other work skews numbers)")
        for workers in (0, 2):
            slow = throughput(per_file, workers, epochs=3)
            fast = throughput(cached, workers, epochs=5)
            fastest = throughput(cached, workers, epochs=5, collate=True)
            print(
                f"num_workers={workers}: per-file HDF5 {slow:7.0f} patches/s | cache "
                f"{fast:7.0f} patches/s (default collate, {fast / slow:5.1f}x) | cache "
                f"{fastest:7.0f} patches/s (collate_patches, {fastest / slow:5.1f}x)"
            )


if __name__ == "__main__":
    main()
