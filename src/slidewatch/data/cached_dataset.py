"""The torch ``Dataset`` over a consolidated cache (see :mod:`slidewatch.data.cache`).

Samples follow the :class:`~slidewatch.data.dataset.PatchDataset` contract. The arrays are
memory-mapped lazily in each process; ``__getitems__`` (called by the DataLoader with a
whole batch of indices) gathers, selects bands and normalises a batch in a few
vectorised steps, which is what makes this path fast.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info

from slidewatch.data.cache import IMAGES, MASKS, band_positions, cache_refs, read_index
from slidewatch.data.dataset import augment_pair, fit_normalization, random_flips
from slidewatch.data.normalization import Normalization
from slidewatch.errors import DatasetError


class PatchBatch(list[dict[str, Any]]):
    """Samples of one batch that also carry the already stacked batch (``.batch``)."""

    def __init__(self, samples: list[dict[str, Any]], batch: dict[str, Any]) -> None:
        super().__init__(samples)
        self.batch = batch


def collate_patches(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """DataLoader ``collate_fn``: the pre-stacked batch when there is one, else torch's default.

    Works for both :class:`CachedPatchDataset` and
    :class:`~slidewatch.data.dataset.PatchDataset`.
    """
    if isinstance(samples, PatchBatch):
        return samples.batch
    return dict(default_collate(samples))


class CachedPatchDataset(Dataset[dict[str, Any]]):
    """Patches of a cache folder, optionally only those whose keys are given."""

    def __init__(
        self,
        cache_dir: Path,
        bands: str | Sequence[str] = "all14",
        normalization: Normalization | None = None,
        keys: Sequence[str] | None = None,
        augment: bool = False,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        index = read_index(self.cache_dir)
        self.bands, self._band_idx = band_positions(index, bands)
        self.normalization = fit_normalization(normalization, self.bands)
        self.augment = augment
        all_keys: list[str] = index["keys"]
        if keys is None:
            rows = list(range(len(all_keys)))
        else:
            where = {k: i for i, k in enumerate(all_keys)}
            for i, ref in enumerate(cache_refs(self.cache_dir)):  # caches written before 0.2
                where.setdefault(ref.key, i)  # stored source/id keys; refs now name the split
            unknown = [k for k in keys if k not in where]
            if unknown:
                raise DatasetError(
                    f"{self.cache_dir}: {len(unknown)} keys not in the cache "
                    f"(e.g. {unknown[0]!r}); rebuild the cache from the same folders"
                )
            rows = [where[k] for k in keys]
        self._rows = np.asarray(rows, dtype=np.int64)
        self.keys = [all_keys[i] for i in rows]
        self.ids = [index["ids"][i] for i in rows]
        self.sources = [index["sources"][i] for i in rows]
        self._has_mask: list[bool] = [bool(index["has_mask"][i]) for i in rows]
        self._all_bands = self._band_idx == list(range(len(index["bands"])))
        self._offset, self._bias, self._gain = self._affine()
        self._images: np.ndarray | None = None
        self._masks: np.ndarray | None = None

    def _affine(self) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        """Per-band ``offset`` (C) and ``bias``, ``gain`` (C×1×1): ``(x - offset) · gain``
        equals ``x · gain + bias``."""
        norm = self.normalization or Normalization.identity(self.bands)
        off, scale = norm.arrays(channel_axis=0, ndim=3)
        gain = (1.0 / scale).astype(np.float32)
        return off.ravel(), torch.from_numpy(-off * gain), torch.from_numpy(gain)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._images is None or self._masks is None:  # opened per process (worker-safe)
            self._images = np.load(self.cache_dir / IMAGES, mmap_mode="r")
            self._masks = np.load(self.cache_dir / MASKS, mmap_mode="r")
        return self._images, self._masks

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_images"] = state["_masks"] = None
        return state

    def __len__(self) -> int:
        return len(self._rows)

    def load_batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised float32 N×C×H×W images and int64 N×H×W masks of ``indices``.

        One fused multiply-add per patch (torch, multi-threaded) reads the memory map and
        writes the normalised values straight into the output; inside a DataLoader worker
        the output lives in shared memory, so handing the batch over copies nothing.
        """
        images, masks = self._arrays()
        rows = self._rows[np.asarray(indices, dtype=np.int64)]
        shape = (len(rows), len(self._band_idx), *images.shape[2:])
        in_worker = get_worker_info() is not None
        out = torch.empty(shape, dtype=torch.float32)
        out_masks = torch.empty((len(rows), *masks.shape[1:]), dtype=torch.int64)
        if in_worker:
            out.share_memory_()
            out_masks.share_memory_()
        m = out_masks.numpy()
        for k, row in enumerate(rows.tolist()):
            self._copy_row(images, row, out[k])
            m[k] = masks[row]
        if not self._all_bands:
            out.mul_(self._gain)  # one multi-threaded pass over the batch
        if self.augment:
            self._augment_in_place(out.numpy(), m)
        return out, out_masks

    def _copy_row(self, images: np.ndarray, row: int, out: torch.Tensor) -> None:
        """Selected, normalised bands of one cached patch into ``out`` (C×H×W)."""
        with warnings.catch_warnings():  # the memory map is read-only; torch only reads it
            warnings.simplefilter("ignore", UserWarning)
            if self._all_bands:
                src = torch.from_numpy(np.asarray(images[row]))
                torch.addcmul(self._bias, src, self._gain, out=out)
                return
        # A band subset: per-band (x - offset) in numpy (cheap on one band), gain applied
        # to the whole batch afterwards in load_batch.
        x = out.numpy()
        for j, band in enumerate(self._band_idx):
            np.subtract(images[row, band], self._offset[j], out=x[j])

    @staticmethod
    def _augment_in_place(x: np.ndarray, m: np.ndarray) -> None:
        for k in range(len(x)):
            flip_h, flip_v, turns = random_flips()
            turns = turns if x.shape[-1] == x.shape[-2] else 0
            x[k], m[k] = augment_pair(x[k], m[k], (flip_h, flip_v, turns))

    def _sample(self, i: int, image: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
        sample: dict[str, Any] = {"image": image, "id": self.ids[i], "source": self.sources[i]}
        if self._has_mask[i]:
            sample["mask"] = mask
        return sample

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """A whole batch at once (the DataLoader calls this when it exists).

        The samples are views into one batch tensor; :func:`collate_patches` returns that
        tensor without copying (torch's default collate works too, with one copy more).
        """
        images, masks = self.load_batch(indices)
        # unbind gives all views in one call; indexing a tensor 64 times costs more than the copy
        pairs = zip(indices, images.unbind(0), masks.unbind(0), strict=True)
        samples = [self._sample(int(i), image, mask) for i, image, mask in pairs]
        with_mask = [self._has_mask[int(i)] for i in indices]
        if all(with_mask) or not any(with_mask):
            batch = {
                "image": images,
                "id": [s["id"] for s in samples],
                "source": [s["source"] for s in samples],
            }
            if all(with_mask):
                batch["mask"] = masks
            return PatchBatch(samples, batch)
        return samples

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.__getitems__([index])[0]
