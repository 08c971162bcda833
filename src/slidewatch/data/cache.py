"""The consolidated store: all patches of one or more datasets in two ``.npy`` arrays read
by memory mapping, so the loader is never the bottleneck of a GPU.

A cache folder holds ``images.npy`` (N×C×H×W float32 or float16, L4S scale, not
normalised), ``masks.npy`` (N×H×W uint8; zeros where a patch has no mask) and ``index.json``
(keys, ids, sources, splits, has_mask, bands). ``index.json`` is written last, so a folder is
a cache only once it is complete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.bands import band_indices, resolve_bands
from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.data.layout import PatchRef
from slidewatch.errors import ConfigError, DatasetError

INDEX, IMAGES, MASKS = "index.json", "images.npy", "masks.npy"
FORMAT_VERSION = 1
DTYPES = ("float32", "float16")


def is_cache(path: Path) -> bool:
    """True when ``path`` is a complete cache folder."""
    path = Path(path)
    return (path / INDEX).is_file() and (path / IMAGES).is_file() and (path / MASKS).is_file()


def _bands_of(refs: Sequence[PatchRef]) -> tuple[str, ...]:
    first = read_bands(refs[0].image)
    for ref in refs[1:]:
        bands = read_bands(ref.image)
        if bands != first:
            raise DatasetError(
                f"{ref.image}: holds bands {','.join(bands)} but {refs[0].image} holds "
                f"{','.join(first)}; cache datasets with the same bands separately"
            )
    return first


def _fill(refs: Sequence[PatchRef], images: np.ndarray, masks: np.ndarray, progress: bool) -> None:
    hw = images.shape[2:]
    for i, ref in enumerate(
        tqdm(refs, desc="caching", unit="patch", disable=None if progress else True)
    ):
        image = read_image(ref.image)
        if image.shape[:2] != hw:
            raise DatasetError(
                f"{ref.image}: shape {image.shape[:2]} differs from {hw}; "
                "cache patches of one size together"
            )
        images[i] = image.transpose(2, 0, 1)
        if ref.mask is not None:
            mask = read_mask(ref.mask)
            if mask.shape != hw:
                raise DatasetError(
                    f"{ref.mask}: shape {mask.shape} differs from its image {hw}; re-export it"
                )
            masks[i] = mask


def build_cache(
    refs: Sequence[PatchRef], out_dir: Path, dtype: str = "float32", progress: bool = True
) -> Path:
    """Write the consolidated store of ``refs`` into ``out_dir``; returns ``out_dir``."""
    if dtype not in DTYPES:
        raise ConfigError(f"unknown cache dtype {dtype!r}; valid names: {', '.join(DTYPES)}")
    if not refs:
        raise DatasetError("no patches to cache; check the dataset folders")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bands = _bands_of(refs)
    shape = (len(refs), len(bands), *read_image(refs[0].image).shape[:2])
    (out_dir / INDEX).unlink(missing_ok=True)  # an interrupted rebuild is not a cache
    with atomic_output(out_dir / IMAGES) as tmp_images, atomic_output(out_dir / MASKS) as tmp_masks:
        images = np.lib.format.open_memmap(tmp_images, "w+", np.dtype(dtype), shape)
        masks = np.lib.format.open_memmap(tmp_masks, "w+", np.uint8, (shape[0], *shape[2:]))
        _fill(refs, images, masks, progress)
        images.flush()
        masks.flush()
        del images, masks
    _write_index(out_dir, refs, bands, dtype)  # last: only a complete store has an index
    return out_dir


def _write_index(
    out_dir: Path, refs: Sequence[PatchRef], bands: tuple[str, ...], dtype: str
) -> None:
    index = {
        "format_version": FORMAT_VERSION,
        "bands": list(bands),
        "dtype": dtype,
        "keys": [r.key for r in refs],
        "ids": [r.id for r in refs],
        "sources": [r.source for r in refs],
        "splits": [r.split for r in refs],
        "has_mask": [r.mask is not None for r in refs],
        "images": [str(r.image) for r in refs],
        "masks": [str(r.mask) if r.mask is not None else None for r in refs],
    }
    write_text_atomic(out_dir / INDEX, json.dumps(index))


def read_index(cache_dir: Path) -> dict[str, Any]:
    """The parsed ``index.json`` of a cache; DatasetError when it is not a cache."""
    cache_dir = Path(cache_dir)
    if not is_cache(cache_dir):
        raise DatasetError(
            f"{cache_dir}: not a slidewatch cache (needs {INDEX}, {IMAGES}, {MASKS}); "
            "build one with 'slidewatch data cache DIR --out CACHE'"
        )
    try:
        index: dict[str, Any] = json.loads((cache_dir / INDEX).read_text())
        resolve_bands(index["bands"])
        if len(index["keys"]) != len(index["has_mask"]):
            raise ValueError("keys and has_mask differ in length")
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{cache_dir / INDEX}: malformed ({exc}); rebuild the cache") from None
    return index


def cache_refs(cache_dir: Path) -> list[PatchRef]:
    """The refs stored in a cache (file paths as they were at build time)."""
    index = read_index(cache_dir)
    refs = []
    for i, image in enumerate(index["images"]):
        mask = index["masks"][i]
        refs.append(
            PatchRef(
                index["ids"][i],
                Path(image),
                Path(mask) if mask else None,
                index["sources"][i],
                index["splits"][i],
            )
        )
    return refs


def band_positions(
    index: dict[str, Any], bands: str | Sequence[str]
) -> tuple[tuple[str, ...], list[int]]:
    """Resolved ``bands`` and their channel positions in the cache."""
    names = resolve_bands(bands)
    return names, band_indices(names, index["bands"])


def __getattr__(name: str) -> Any:
    # CachedPatchDataset needs torch; building and inspecting a cache must not.
    if name == "CachedPatchDataset":
        from slidewatch.data.cached_dataset import CachedPatchDataset

        return CachedPatchDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
