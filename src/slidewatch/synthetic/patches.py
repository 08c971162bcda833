"""Tiny, valid, seeded, SYNTHETIC L4S datasets for tests and demos, in all three folder layouts.

Values follow the L4S scale (band means about 0.5-2, slope <= 4.5, dem <= 10). The DEM is a
smooth surface, the slope band is its gradient (degrees / 20.29), and landslides are
bright bare-soil blobs on the steeper slopes, so a model has something to learn and
``data check`` passes. The known statistics come back in :class:`GeneratedDataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slidewatch.bands import BAND_NAMES, L4S_SCALE, band_indices, resolve_bands
from slidewatch.data.hdf5 import write_image, write_mask
from slidewatch.errors import ConfigError
from slidewatch.synthetic.area import PIXEL_M

GENERATOR_LAYOUTS = ("flat", "official", "huggingface")
# Typical L4S band means (B1..B12); landslides (bare soil) are brighter in the visible/SWIR.
_BASE = np.array([1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.2, 1.1, 1.0, 0.9], np.float32)
_SOIL = np.array([0.2, 0.4, 0.5, 0.7, 0.5, 0.3, 0.2, 0.1, 0.2, 0.0, 0.6, 0.7], np.float32)


@dataclass(frozen=True)
class GeneratedDataset:
    """What :func:`make_l4s_dataset` wrote, with its statistics known in advance."""

    root: Path
    """Dataset folder (pass it to ``discover``)."""
    layout: str
    """``flat``, ``official`` or ``huggingface``."""
    ids: tuple[str, ...]
    """Patch ids (image file stems) in generation order."""
    splits: tuple[str | None, ...]
    """Split of each patch (None for the flat layout)."""
    bands: tuple[str, ...]
    """Bands stored in every image, in order."""
    size: int
    """Patch height and width in pixels."""
    landslide_pixels: tuple[int, ...]
    """Landslide pixel count of each patch (0 for every patch when written without masks)."""
    band_min: tuple[float, ...]
    """Per-band minimum over the whole dataset (float32 values as written)."""
    band_max: tuple[float, ...]
    """Per-band maximum over the whole dataset."""
    with_masks: bool
    """Whether mask files were written."""

    @property
    def total_pixels(self) -> int:
        """Number of pixels over all patches."""
        return len(self.ids) * self.size * self.size


def _smooth_field(rng: np.random.Generator, size: int, waves: int = 4) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = np.zeros((size, size), np.float32)
    for _ in range(waves):
        fy, fx = rng.uniform(0.5, 3.0, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += np.sin(2 * np.pi * (fy * yy + fx * xx) + phase).astype(np.float32)
    return field / waves


def _terrain(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """DEM and slope in L4S scale; slope is the DEM's gradient in degrees / 20.29."""
    relief_m = rng.uniform(40, 160)
    dem_m = rng.uniform(300, 2500) + relief_m * _smooth_field(rng, size, waves=3)
    gy, gx = np.gradient(dem_m, PIXEL_M)
    slope_deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    return dem_m / L4S_SCALE[13], slope_deg / L4S_SCALE[12]


def make_patch(
    rng: np.random.Generator, size: int = 128, landslide_fraction: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """One 14-band L4S-scale float32 image (H×W×14) and its uint8 0/1 mask."""
    dem, slope = _terrain(rng, size)
    score = _smooth_field(rng, size, waves=5) + 0.6 * slope / max(float(slope.max()), 1e-6)
    k = round(landslide_fraction * size * size)
    mask = np.zeros((size, size), np.uint8)
    if k > 0:
        mask.flat[np.argsort(score, axis=None)[-k:]] = 1
    vegetation = 0.15 * _smooth_field(rng, size)
    noise = rng.normal(0, 0.03, (size, size, 12)).astype(np.float32)
    optical = _BASE * rng.uniform(0.8, 1.3) + vegetation[..., None] + noise
    optical += mask[..., None] * _SOIL
    image = np.concatenate([optical, slope[..., None], dem[..., None]], axis=-1)
    return np.clip(image, 0.0, None).astype(np.float32), mask


def _split_of(i: int, n: int) -> str:
    if n >= 3 and i >= n - max(1, n // 5):
        return "test"
    if n >= 3 and i >= n - 2 * max(1, n // 5):
        return "val"
    return "train"


def _paths(root: Path, layout: str, split: str | None, number: int) -> tuple[Path, Path]:
    image, mask = f"image_{number}.h5", f"mask_{number}.h5"
    split = split or "train"
    if layout == "official":
        folder = {"train": "TrainData", "val": "ValidData", "test": "TestData"}[split]
        return root / folder / "img" / image, root / folder / "mask" / mask
    if layout == "huggingface":
        hf = {"train": "train", "val": "validation", "test": "test"}[split]
        return root / "images" / hf / image, root / "annotations" / hf / mask
    return root / "img" / image, root / "mask" / mask


def make_l4s_dataset(
    root: Path,
    layout: str = "flat",
    n: int = 8,
    size: int = 128,
    seed: int = 0,
    bands: Sequence[str] | str = BAND_NAMES,
    landslide_fraction: float = 0.05,
    with_masks: bool = True,
) -> GeneratedDataset:
    """Write ``n`` seeded L4S patches under ``root`` in ``layout`` and return their stats."""
    if layout not in GENERATOR_LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; valid names: {', '.join(GENERATOR_LAYOUTS)}")
    names = resolve_bands(bands)
    idx = band_indices(names, BAND_NAMES)
    rng = np.random.default_rng(seed)
    root = Path(root)
    ids, splits, counts = [], [], []
    lo = np.full(len(names), np.inf)
    hi = np.full(len(names), -np.inf)
    for i in range(n):
        split = _split_of(i, n) if layout != "flat" else None
        image, mask = make_patch(rng, size, landslide_fraction)
        image = image[..., idx]
        _write_pair(_paths(root, layout, split, i + 1), image, names, mask if with_masks else None)
        ids.append(f"image_{i + 1}")
        splits.append(split)
        counts.append(int(mask.sum()) if with_masks else 0)
        lo = np.minimum(lo, image.min(axis=(0, 1)))
        hi = np.maximum(hi, image.max(axis=(0, 1)))
    return GeneratedDataset(
        root,
        layout,
        tuple(ids),
        tuple(splits),
        names,
        size,
        tuple(counts),
        tuple(map(float, lo)),
        tuple(map(float, hi)),
        with_masks,
    )


def _write_pair(
    paths: tuple[Path, Path], image: np.ndarray, bands: tuple[str, ...], mask: np.ndarray | None
) -> None:
    write_image(paths[0], image, bands)
    if mask is not None:
        write_mask(paths[1], mask)
