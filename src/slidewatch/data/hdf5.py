"""Reading and writing single L4S HDF5 files.

An image file holds dataset ``img`` (H×W×C, float, L4S scale) and, when it does not hold the
14 L4S bands in order, an attribute ``bands`` (comma-separated band names) on that dataset.
A mask file holds dataset ``mask`` (H×W, uint8, 0 = background, 1 = landslide).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from slidewatch.atomic import atomic_output
from slidewatch.bands import BAND_NAMES, resolve_bands
from slidewatch.errors import DatasetError, SlidewatchError

IMAGE_KEY = "img"
MASK_KEY = "mask"
BANDS_ATTR = "bands"


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn whatever h5py raises on a damaged file (it varies with the damage) into DatasetError."""
    try:
        yield
    except SlidewatchError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise DatasetError(f"{path}: truncated or corrupt file ({exc}); re-export it") from None


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r", locking=False)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found; check the dataset folder") from None
    except OSError as exc:
        raise DatasetError(
            f"{path}: not a readable HDF5 file ({exc}); re-export or remove it"
        ) from None


def _dataset(f: h5py.File, key: str, path: Path) -> h5py.Dataset:
    if key not in f or not isinstance(f[key], h5py.Dataset):
        raise DatasetError(
            f"{path}: has no {key!r} dataset "
            f"(found: {', '.join(map(str, f.keys())) or 'nothing'}); "
            f"L4S files store the array under {key!r}"
        )
    return f[key]


def _values(ds: h5py.Dataset, path: Path) -> np.ndarray:
    """The whole of ``ds``; a read error (damaged data) becomes DatasetError."""
    try:
        return np.asarray(ds[()])
    except OSError as exc:
        raise DatasetError(f"{path}: truncated or corrupt data ({exc}); re-export it") from None


def read_bands(path: Path) -> tuple[str, ...]:
    """Band names held by an image file: its ``bands`` attribute, else the 14 L4S bands."""
    with _reading(path), _open(path) as f:
        ds = _dataset(f, IMAGE_KEY, path)
        return _bands_of(ds, path)


def read_header(path: Path) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Band names and ``img`` shape of an image file, without reading its pixels."""
    with _reading(path), _open(path) as f:
        ds = _dataset(f, IMAGE_KEY, path)
        return _bands_of(ds, path), tuple(int(n) for n in ds.shape)


def _bands_of(ds: h5py.Dataset, path: Path) -> tuple[str, ...]:
    attr = ds.attrs.get(BANDS_ATTR)
    if attr is None:
        if ds.ndim == 3 and ds.shape[-1] != len(BAND_NAMES):
            raise DatasetError(
                f"{path}: holds {ds.shape[-1]} bands but no 'bands' attribute says which; "
                "L4S files hold 14 bands (B1..B12, slope, dem)"
            )
        return BAND_NAMES
    text = attr.decode() if isinstance(attr, bytes) else str(attr)
    try:
        return resolve_bands(text)
    except KeyError as exc:
        raise DatasetError(f"{path}: 'bands' attribute {text!r} is invalid: {exc}") from None


def read_image(path: Path, band_idx: Sequence[int] | None = None) -> np.ndarray:
    """Read ``img`` as float32 H×W×C (optionally only the channels ``band_idx``)."""
    with _reading(path), _open(path) as f:
        ds = _dataset(f, IMAGE_KEY, path)
        if ds.ndim != 3:
            raise DatasetError(f"{path}: 'img' has shape {ds.shape}; expected H×W×C")
        arr = _values(ds, path)
    if band_idx is not None:
        arr = arr[..., list(band_idx)]
    return np.asarray(arr, dtype=np.float32)


def read_mask(path: Path) -> np.ndarray:
    """Read ``mask`` as uint8 H×W."""
    with _reading(path), _open(path) as f:
        ds = _dataset(f, MASK_KEY, path)
        arr = _values(ds, path)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise DatasetError(f"{path}: 'mask' has shape {arr.shape}; expected H×W")
    return np.asarray(arr, dtype=np.uint8)


def _atomic_h5(path: Path, key: str, data: np.ndarray, bands: Sequence[str] | None) -> None:
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        ds = f.create_dataset(key, data=data)
        if bands is not None:
            ds.attrs[BANDS_ATTR] = ",".join(bands)


def write_image(path: Path, image: np.ndarray, bands: Sequence[str] = BAND_NAMES) -> None:
    """Write an H×W×C image atomically; records ``bands`` unless they are the 14 L4S bands."""
    names = resolve_bands(bands if isinstance(bands, str) else list(bands))
    if image.ndim != 3 or image.shape[-1] != len(names):
        raise DatasetError(
            f"{path}: image shape {image.shape} does not match {len(names)} bands; expected H×W×C"
        )
    _atomic_h5(Path(path), IMAGE_KEY, image, None if names == BAND_NAMES else names)


def write_mask(path: Path, mask: np.ndarray) -> None:
    """Write an H×W 0/1 mask atomically as uint8."""
    if mask.ndim != 2:
        raise DatasetError(f"{path}: mask shape {mask.shape}; expected H×W")
    _atomic_h5(Path(path), MASK_KEY, np.asarray(mask, dtype=np.uint8), None)
