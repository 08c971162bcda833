"""The checks of one HDF5 patch file, image or mask: readable, the expected key, shape,
dtype, finite values, 0/1 masks, values plausible for the L4S scale. Never raising: every
problem is a sentence that ends with the fix. :mod:`slidewatch.data.check` runs them over
folders."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from slidewatch.bands import BAND_NAMES, resolve_bands
from slidewatch.data.hdf5 import BANDS_ATTR, IMAGE_KEY, MASK_KEY
from slidewatch.data.plausibility import band_problems


def _read(path: Path, key: str) -> tuple[np.ndarray | None, tuple[str, ...] | None, list[str]]:
    """(array, bands attribute or None, problems) for one HDF5 file; never raises."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            if key not in f or not isinstance(f[key], h5py.Dataset):
                found = ", ".join(map(str, f.keys())) or "nothing"
                return (
                    None,
                    None,
                    [f"no {key!r} dataset (found: {found}); store the array under {key!r}"],
                )
            ds = f[key]
            attr = ds.attrs.get(BANDS_ATTR)
            data = ds[()]
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:  # damaged file
        return None, None, [f"unreadable or truncated HDF5 ({exc}); re-export or remove the file"]
    if attr is None:
        return data, None, []
    text = attr.decode() if isinstance(attr, bytes) else str(attr)
    try:
        return data, resolve_bands(text), []
    except KeyError as exc:
        return data, None, [f"'bands' attribute {text!r} is invalid ({exc}); fix the attribute"]


def check_image(path: Path) -> tuple[list[str], tuple[int, int] | None]:
    """Problems of one image file (all errors) and its H×W when readable."""
    problems, shape, _ = image_file_problems(path)
    return problems, shape


def image_file_problems(path: Path) -> tuple[list[str], tuple[int, int] | None, bool]:
    """(problems, H×W when readable, whether every value is 0)."""
    problems, shape, data = _image_problems(path)
    all_zero = data is not None and not np.any(data)
    return problems, shape, all_zero


def _image_problems(path: Path) -> tuple[list[str], tuple[int, int] | None, np.ndarray | None]:
    data, bands, problems = _read(path, IMAGE_KEY)
    if data is None:
        return problems, None, None
    if data.ndim != 3:
        return [*problems, f"'img' has shape {data.shape}; expected H×W×C"], None, None
    bands = bands or BAND_NAMES
    if data.shape[-1] != len(bands):
        problems.append(
            f"'img' has {data.shape[-1]} bands but {len(bands)} are expected "
            f"({','.join(bands)}); add a 'bands' attribute or fix the file"
        )
        return problems, data.shape[:2], data
    if not np.issubdtype(data.dtype, np.floating):
        problems.append(f"'img' dtype is {data.dtype}; L4S images are float (L4S scale)")
        data = data.astype(np.float64)
    finite = np.isfinite(data)
    if not finite.all():
        problems.append(f"{int((~finite).sum())} NaN/inf values; fill or drop the patch")
        data = np.where(finite, data, 0.0)
    if not np.any(data):  # Sentinel-2's fill: nothing to judge the scale by
        return problems, data.shape[:2], data
    return problems + band_problems(data, bands), data.shape[:2], data


def check_mask(path: Path, shape: tuple[int, int] | None) -> list[str]:
    """Problems of one mask file, compared with its image's H×W when known."""
    data, _, problems = _read(path, MASK_KEY)
    if data is None:
        return problems
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 2:
        return [*problems, f"'mask' has shape {data.shape}; expected H×W"]
    if shape is not None and data.shape != shape:
        problems.append(f"'mask' shape {data.shape} differs from its image {shape}; re-export")
    if not np.issubdtype(data.dtype, np.integer) and not np.issubdtype(data.dtype, np.bool_):
        problems.append(f"'mask' dtype is {data.dtype}; write uint8 0/1")
    values = np.unique(data[np.isfinite(data)] if data.dtype.kind == "f" else data)
    bad = [v for v in values.tolist() if v not in (0, 1)]
    if bad or (data.dtype.kind == "f" and not np.isfinite(data).all()):
        shown = ", ".join(f"{v:g}" for v in bad[:5]) or "NaN"
        problems.append(f"mask values other than 0/1 ({shown}); map landslide to 1, else 0")
    return problems
