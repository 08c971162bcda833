"""From a :class:`TrainConfig` to training and validation data: split, statistics, loaders.

Everything here is a function of the configuration and the files, so a resumed run gets the
same split (read back from ``RUN_DIR/split.json``) and the same normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from slidewatch.data.cache import build_cache, cache_refs, is_cache
from slidewatch.data.cached_dataset import CachedPatchDataset, collate_patches
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.hdf5 import read_mask
from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.data.leakage import image_hashes
from slidewatch.data.normalization import Normalization
from slidewatch.data.splits import official_split, read_split, split_apart, write_split
from slidewatch.data.stats import compute_normalization
from slidewatch.errors import ConfigError, DatasetError
from slidewatch.losses import beta_from_fraction
from slidewatch.training.config import TrainConfig
from slidewatch.training.scored_patches import write_fingerprints


@dataclass(frozen=True)
class PreparedData:
    """The resolved inputs of one training run."""

    train: list[PatchRef]
    """Training patches."""
    val: list[PatchRef]
    """Validation patches."""
    bands: tuple[str, ...]
    """Bands fed to the model, in order."""
    normalization: Normalization
    """Statistics of the training split over ``bands``."""
    landslide_fraction: float
    """Share of landslide pixels in the training split."""
    beta: float
    """The WCE landslide weight (from the config, or derived from the fraction)."""


def labeled_refs(config: TrainConfig) -> list[PatchRef]:
    """The labelled patches of the configured datasets (or of the cache when no data given)."""
    if config.data:
        refs = discover_many([Path(d) for d in config.data])
    elif config.cache_dir and is_cache(Path(config.cache_dir)):
        refs = cache_refs(Path(config.cache_dir))
    else:
        raise ConfigError("no training data; give data folders (--data DIR) or an existing cache")
    labeled = [r for r in refs if r.mask is not None]
    if len(labeled) < 2:
        raise DatasetError(
            f"{', '.join(config.data)}: {len(labeled)} labelled patch(es); training needs at "
            "least 2 image/mask pairs"
        )
    return labeled


def split_refs(
    config: TrainConfig, refs: list[PatchRef], hashes: dict[str, str] | None = None
) -> dict[str, list[PatchRef]]:
    """Training and validation patches by the configured split; the random split keeps
    duplicates (``hashes``: key -> image hash) and overlapping patches on one side."""
    if config.split == "random":
        return split_apart(refs, config.val_fraction, config.seed, hashes).as_dict()
    if config.split == "official":
        parts = {"train": official_split(refs, "train"), "val": official_split(refs, "val")}
    else:
        parts = read_split(Path(config.split), refs)
    for name in ("train", "val"):
        if not parts.get(name):
            raise DatasetError(
                f"split {config.split!r} leaves no {name} patches; use split: random or a "
                "dataset with both training and validation data"
            )
    return {"train": parts["train"], "val": parts["val"]}


def landslide_fraction(refs: list[PatchRef]) -> float:
    """Share of landslide pixels over the masks of ``refs``."""
    positive = total = 0
    for ref in refs:
        if ref.mask is None:
            continue
        mask = read_mask(ref.mask)
        positive += int(np.count_nonzero(mask))
        total += mask.size
    return positive / total if total else 0.0


def fit_normalization(config: TrainConfig, refs: list[PatchRef]) -> Normalization:
    """The configured normalisation computed on ``refs`` (the training split)."""
    bands = config.band_names
    if config.normalization == "none":
        return Normalization.identity(bands)
    if config.normalization == "percentiles":
        return compute_normalization(refs, bands, method="minmax", percentiles=config.percentiles)
    return compute_normalization(refs, bands, method=config.normalization)


def prepare_data(config: TrainConfig, run_dir: Path) -> PreparedData:
    """Resolve the split (reusing RUN_DIR/split.json on resume) and the statistics."""
    refs = labeled_refs(config)
    split_file = run_dir / "split.json"
    if config.resume and split_file.exists():
        parts = read_split(split_file, refs)
    else:
        hashes = image_hashes(refs)
        parts = split_refs(config, refs, hashes)
        write_split(split_file, parts)
        write_fingerprints(run_dir, parts, hashes)
    fraction = landslide_fraction(parts["train"])
    beta = beta_from_fraction(fraction) if config.beta == "auto" else float(config.beta)
    return PreparedData(
        train=parts["train"],
        val=parts["val"],
        bands=config.band_names,
        normalization=fit_normalization(config, parts["train"]),
        landslide_fraction=fraction,
        beta=beta,
    )


def make_dataset(
    config: TrainConfig, refs: list[PatchRef], norm: Normalization, augment: bool
) -> Dataset[Any]:
    """A PatchDataset over ``refs``, or a CachedPatchDataset when a cache is configured."""
    if not config.cache_dir:
        return PatchDataset(refs, bands=config.band_names, normalization=norm, augment=augment)
    cache = Path(config.cache_dir)
    if not is_cache(cache):
        build_cache(labeled_refs(config), cache)
    keys = [r.key for r in refs]
    return CachedPatchDataset(
        cache, config.band_names, normalization=norm, keys=keys, augment=augment
    )


class PatchDataModule(pl.LightningDataModule):
    """Training and validation loaders over prepared data."""

    def __init__(self, config: TrainConfig, data: PreparedData) -> None:
        super().__init__()
        self.config = config
        self.data = data

    def _loader(self, refs: list[PatchRef], train: bool) -> DataLoader[Any]:
        c = self.config
        dataset = make_dataset(c, refs, self.data.normalization, augment=train and c.augment)
        return DataLoader(
            dataset,
            batch_size=c.batch_size,
            shuffle=train,
            num_workers=c.num_workers,
            persistent_workers=c.num_workers > 0,
            collate_fn=collate_patches,  # the cache's pre-stacked batches pass without a copy
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader[Any]:
        """Shuffled, optionally augmented training batches."""
        return self._loader(self.data.train, train=True)

    def val_dataloader(self) -> DataLoader[Any]:
        """Validation batches in a fixed order."""
        return self._loader(self.data.val, train=False)
