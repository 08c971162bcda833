"""The torch ``Dataset`` over L4S HDF5 patches: lazy, worker-safe, band-selecting.

Files are opened inside ``__getitem__`` only, so the dataset pickles cheaply into
DataLoader worker processes. Samples are ``{"image": float32 C×H×W, "mask": int64 H×W,
"id": str, "source": str}``; ``mask`` is present only when the patch has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from slidewatch.bands import band_indices, resolve_bands
from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.data.layout import PatchRef
from slidewatch.data.normalization import Normalization
from slidewatch.errors import DatasetError


def fit_normalization(
    normalization: Normalization | None, bands: tuple[str, ...]
) -> Normalization | None:
    """``normalization`` restricted to ``bands`` (None and ``none`` stay a no-op)."""
    if normalization is None or normalization.method == "none":
        return None
    return normalization if normalization.bands == bands else normalization.select(bands)


def augment_pair(
    image: np.ndarray, mask: np.ndarray | None, flips: Sequence[int]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the dihedral transform ``flips = (flip_h, flip_v, quarter_turns)`` to C×H×W + H×W."""
    flip_h, flip_v, turns = flips
    axes = [(image, (-2, -1))] + ([(mask, (-2, -1))] if mask is not None else [])
    out = []
    for arr, (ay, ax) in axes:
        if flip_h:
            arr = arr[..., ::-1]
        if flip_v:
            arr = arr[..., ::-1, :]
        out.append(np.ascontiguousarray(np.rot90(arr, turns, axes=(ay, ax))))
    return out[0], (out[1] if mask is not None else None)


def random_flips() -> tuple[int, int, int]:
    """A random dihedral transform drawn from torch's RNG (seeded per DataLoader worker)."""
    draw = torch.randint(0, 4, (3,)).tolist()
    return draw[0] % 2, draw[1] % 2, draw[2]


def make_sample(
    image: np.ndarray, mask: np.ndarray | None, ref_id: str, source: str
) -> dict[str, Any]:
    """The sample dict of the dataset contract from a C×H×W image and optional H×W mask."""
    sample: dict[str, Any] = {"image": torch.from_numpy(image), "id": ref_id, "source": source}
    if mask is not None:
        sample["mask"] = torch.from_numpy(mask.astype(np.int64))
    return sample


class PatchDataset(Dataset[dict[str, Any]]):
    """L4S patches read file by file from their HDF5 files."""

    def __init__(
        self,
        refs: Sequence[PatchRef],
        bands: str | Sequence[str] = "all14",
        normalization: Normalization | None = None,
        require_masks: bool = True,
        augment: bool = False,
    ) -> None:
        self.refs: list[PatchRef] = list(refs)
        self.bands: tuple[str, ...] = resolve_bands(bands)
        self.normalization = fit_normalization(normalization, self.bands)
        self.augment = augment
        if require_masks:
            missing = [r for r in self.refs if r.mask is None]
            if missing:
                raise DatasetError(
                    f"{missing[0].image}: no mask file ({len(missing)} of {len(self.refs)} "
                    "images lack one); add the masks or use require_masks=False for prediction"
                )
        self._band_idx: dict[str, list[int]] = {}  # image path -> channel indices

    def __len__(self) -> int:
        return len(self.refs)

    def _indices(self, ref: PatchRef) -> list[int]:
        # Reading the band list opens the file once more: do it once per file.
        key = str(ref.image)
        if key not in self._band_idx:
            try:
                self._band_idx[key] = band_indices(self.bands, read_bands(ref.image))
            except KeyError as exc:
                raise DatasetError(f"{ref.image}: {exc}") from None
        return self._band_idx[key]

    def __getitem__(self, index: int) -> dict[str, Any]:
        ref = self.refs[index]
        image = read_image(ref.image, self._indices(ref)).transpose(2, 0, 1)
        mask = read_mask(ref.mask) if ref.mask is not None else None
        if mask is not None and mask.shape != image.shape[1:]:
            raise DatasetError(
                f"{ref.mask}: mask shape {mask.shape} differs from image {image.shape[1:]}; "
                "re-export the pair"
            )
        if self.normalization is not None:
            image = self.normalization.apply(image, channel_axis=0)
        if self.augment:
            image, mask = augment_pair(image, mask, random_flips())
        return make_sample(np.ascontiguousarray(image, dtype=np.float32), mask, ref.id, ref.source)
