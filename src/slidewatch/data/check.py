"""The data contract: ``slidewatch data check DIR``.

Every file is validated and every problem reported (never stopping at the first):
unreadable or truncated HDF5, missing keys, wrong shape or dtype, NaN/inf, mask values
other than 0/1, images without masks, and values implausible for the L4S scale band by
band (raw digital numbers, min-max scaling, DEM/slope out of range, slope in radians, DEM
and slope swapped). Thresholds were set on the real benchmark files (see ``../shared``):
there the slope band peaks at 1.7-3.7, the DEM at 0.3-4.9, optical band medians stay < 3
(B10 cirrus up to 50), and the DEM is 5x smoother than the slope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from tqdm.auto import tqdm

from slidewatch.bands import (
    BAND_NAMES,
    RAW_JUDGED_BANDS,
    RAW_MEDIAN,
    TERRAIN_L4S_MAX,
    raw_optical_bands,
    resolve_bands,
)
from slidewatch.data.hdf5 import BANDS_ATTR, IMAGE_KEY, MASK_KEY
from slidewatch.data.layout import PatchRef, discover, is_labeled, orphan_masks

ERROR, WARNING = "error", "warning"
DEM_MAX = TERRAIN_L4S_MAX["dem"]  # 7,700 m
SLOPE_MAX = TERRAIN_L4S_MAX["slope"]  # 90 degrees
SLOPE_RADIANS_MAX = 0.08  # pi/2 rad / 20.29: a slope band this flat is in radians
DEM_RANGE_MIN = 0.05  # ~40 m of relief: enough to expect some slope


@dataclass(frozen=True)
class Issue:
    """One problem found in one file."""

    file: str
    """Path of the file at fault."""
    severity: str
    """``error`` or ``warning``."""
    problem: str
    """What is wrong and what to do."""


@dataclass(frozen=True)
class CheckReport:
    """All problems of a dataset folder."""

    root: str
    """The folder checked."""
    files: int
    """Number of image and mask files examined."""
    patches: int
    """Number of image files."""
    labeled: bool
    """Whether the dataset has masks at all (an unlabeled folder gets a note, not warnings)."""
    issues: tuple[Issue, ...]
    """Every problem found, in file order."""
    notes: tuple[str, ...] = field(default=())
    """Remarks that are not problems (e.g. 'no masks: read as unlabeled')."""

    @property
    def errors(self) -> int:
        """Number of errors."""
        return sum(i.severity == ERROR for i in self.issues)

    @property
    def warnings(self) -> int:
        """Number of warnings."""
        return sum(i.severity == WARNING for i in self.issues)

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return self.errors == 0

    def summary(self) -> str:
        """One line: counts of patches, files, errors and warnings."""
        return (
            f"{self.root}: {self.patches} patches, {self.files} files checked, "
            f"{self.errors} errors, {self.warnings} warnings"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "root": self.root,
            "files": self.files,
            "patches": self.patches,
            "labeled": self.labeled,
            "errors": self.errors,
            "warnings": self.warnings,
            "ok": self.ok,
            "notes": list(self.notes),
            "issues": [vars(i) for i in self.issues],
        }


def _roughness(band: np.ndarray) -> float:
    # Mean neighbour difference over spread: a DEM is smooth, its slope is not.
    std = float(band.std())
    return float(np.abs(np.diff(band, axis=1)).mean()) / std if std > 0 else 0.0


def band_problems(image: np.ndarray, bands: tuple[str, ...]) -> list[str]:
    """Plausibility problems of an H×W×C L4S-scale image (finite values assumed)."""
    col = {b: image[..., i].astype(np.float64) for i, b in enumerate(bands)}
    return _scaling_problems(col) + _terrain_problems(col)


def _scaling_problems(col: dict[str, np.ndarray]) -> list[str]:
    out = []
    raw = raw_optical_bands({b: float(np.median(col[b])) for b in RAW_JUDGED_BANDS if b in col})
    if raw:
        out.append(
            f"bands {','.join(raw)} have medians > {RAW_MEDIAN:g}: raw digital numbers, "
            "not L4S scale; divide by the L4S scale vector (slidewatch.bands.raw_to_l4s)"
        )
    unit = [b for b, v in col.items() if abs(v.min()) < 1e-6 and abs(v.max() - 1) < 1e-6]
    if len(unit) >= max(2, len(col) // 2):
        out.append(
            f"bands {','.join(unit)} span exactly [0, 1]: the patch looks min-max scaled; "
            "write L4S-scale values and let the model's normalisation do the scaling"
        )
    return out


def _terrain_problems(col: dict[str, np.ndarray]) -> list[str]:
    out = []
    if "dem" in col and float(col["dem"].max()) > DEM_MAX:
        out.append(
            f"dem band reaches {col['dem'].max():.4g} (> {DEM_MAX:g} = 7,700 m): metres "
            "instead of L4S scale? divide by 772.83"
        )
    if "slope" in col and float(col["slope"].max()) > SLOPE_MAX:
        out.append(
            f"slope band reaches {col['slope'].max():.4g} (> {SLOPE_MAX:g} = 90°): degrees "
            "instead of L4S scale? divide by 20.29"
        )
    if "slope" not in col or "dem" not in col:
        return out
    slope, dem = col["slope"], col["dem"]
    if float(slope.max()) < SLOPE_RADIANS_MAX and float(np.ptp(dem)) > DEM_RANGE_MIN:
        out.append(
            f"slope band peaks at {slope.max():.3g} while the DEM varies: slope in "
            "radians? convert to degrees, then divide by 20.29"
        )
    elif _roughness(slope) < _roughness(dem) and min(slope.std(), dem.std()) > 0:
        out.append(
            "the slope band is smoother than the dem band: DEM and slope look "
            "swapped; write slope as band 13 and dem as band 14"
        )
    return out


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
    problems, shape, _ = _check_image(path)
    return problems, shape


def _check_image(path: Path) -> tuple[list[str], tuple[int, int] | None, bool]:
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


def _check_ref(ref: PatchRef, labeled: bool, shapes: dict[str, tuple[int, int]]) -> Iterable[Issue]:
    image_problems, shape, all_zero = _check_image(ref.image)
    for p in image_problems:
        yield Issue(str(ref.image), ERROR, p)
    if shape is not None:
        shapes[str(ref.image)] = (int(shape[0]), int(shape[1]))
    if all_zero:
        yield Issue(
            str(ref.image),
            WARNING,
            "image is all zeros (Sentinel-2's fill value: no data at all); remove the patch "
            "(and its mask) or rebuild it with a higher --min-valid-fraction",
        )
    if ref.mask is not None:
        for p in check_mask(ref.mask, shape):
            yield Issue(str(ref.mask), ERROR, p)
    elif labeled:
        yield Issue(
            str(ref.image),
            WARNING,
            "image without mask; add the mask or move the image to an unlabeled folder",
        )


def size_outliers(shapes: dict[str, tuple[int, int]]) -> list[Issue]:
    """Errors for images whose H×W differs from the dataset's majority (batching fails)."""
    if not shapes:
        return []
    counts = Counter(shapes.values())
    (majority, n), *_ = counts.most_common(1)
    text = f"{majority[0]}×{majority[1]}"
    return [
        Issue(
            file,
            ERROR,
            f"image is {shape[0]}×{shape[1]} but {n} of {len(shapes)} images in this dataset "
            f"are {text}; training batches need one size: re-cut the patch to {text} or move "
            "it out",
        )
        for file, shape in shapes.items()
        if shape != majority
    ]


def check_dataset(root: Path, progress: bool = True) -> CheckReport:
    """Check every file of the dataset at ``root``; DatasetError only if no dataset is found.

    A missing mask is a warning only where masks are expected: in a split (or a flat folder)
    where other images have one. A split without any mask is read as unlabeled (a note).
    """
    refs = discover(Path(root))
    labeled_splits = {r.split for r in refs if r.mask is not None}
    issues: list[Issue] = []
    shapes: dict[str, tuple[int, int]] = {}
    for ref in tqdm(refs, desc="checking", unit="patch", disable=None if progress else True):
        issues.extend(_check_ref(ref, ref.split in labeled_splits, shapes))
    issues.extend(size_outliers(shapes))
    for mask in orphan_masks(Path(root), refs):
        issues.append(Issue(str(mask), WARNING, "mask without image; add the image or remove it"))
    unlabeled = sorted({str(r.split) for r in refs if r.split not in labeled_splits})
    notes: tuple[str, ...] = ()
    if not labeled_splits:
        notes = ("no masks found: checked as an unlabeled dataset",)
    elif unlabeled:
        notes = (f"split(s) {', '.join(unlabeled)} have no masks: checked as unlabeled",)
    files = len(refs) + sum(r.mask is not None for r in refs)
    return CheckReport(str(root), files, len(refs), is_labeled(refs), tuple(issues), notes)
