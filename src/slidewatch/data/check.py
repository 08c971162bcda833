"""``slidewatch data check DIR...``: every file validated, every problem reported.

Never stopping at the first: unreadable or truncated HDF5, missing keys, wrong shape or
dtype, NaN/inf, mask values other than 0/1, images without masks, sizes that differ, values
implausible for the L4S scale (:mod:`slidewatch.data.plausibility`), and exact duplicate
images within and across the folders given (:mod:`slidewatch.data.leakage`; an error when
the copies' masks disagree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from slidewatch.data.file_checks import check_mask, image_file_problems
from slidewatch.data.layout import PatchRef, discover, is_labeled, orphan_masks
from slidewatch.data.leakage import DuplicateGroup, duplicate_groups, image_hash

ERROR, WARNING = "error", "warning"


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


def _check_ref(ref: PatchRef, labeled: bool, shapes: dict[str, tuple[int, int]]) -> Iterable[Issue]:
    image_problems, shape, all_zero = image_file_problems(ref.image)
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


@dataclass
class _Scan:
    """One folder's checks before duplicates across folders are known (mutable, local)."""

    root: Path
    refs: list[PatchRef]
    issues: list[Issue]
    notes: tuple[str, ...]
    hashes: dict[str, str]


def _scan(root: Path, progress: bool) -> _Scan:
    """Every per-file check of the dataset at ``root``, and the content hash of each image."""
    refs = discover(root, source=str(root.resolve()))  # unique keys across folders
    labeled_splits = {r.split for r in refs if r.mask is not None}
    issues: list[Issue] = []
    shapes: dict[str, tuple[int, int]] = {}
    hashes: dict[str, str] = {}
    for ref in tqdm(refs, desc="checking", unit="patch", disable=None if progress else True):
        found = list(_check_ref(ref, ref.split in labeled_splits, shapes))
        issues.extend(found)
        if not any(i.file == str(ref.image) and i.severity == ERROR for i in found):
            digest = image_hash(ref.image)
            if digest is not None:
                hashes[ref.key] = digest
    issues.extend(size_outliers(shapes))
    for mask in orphan_masks(root, refs):
        issues.append(Issue(str(mask), WARNING, "mask without image; add the image or remove it"))
    unlabeled = sorted({str(r.split) for r in refs if r.split not in labeled_splits})
    notes: tuple[str, ...] = ()
    if not labeled_splits:
        notes = ("no masks found: checked as an unlabeled dataset",)
    elif unlabeled:
        notes = (f"split(s) {', '.join(unlabeled)} have no masks: checked as unlabeled",)
    return _Scan(root, refs, issues, notes, hashes)


def duplicate_issues(group: DuplicateGroup) -> list[Issue]:
    """One issue per copy: a warning, or an error when the copies' masks disagree."""
    out = []
    for ref in group.refs:
        others = ", ".join(str(o.image) for o in group.refs if o is not ref)
        if group.masks_disagree:
            out.append(Issue(
                str(ref.image), ERROR,
                f"identical image to {others} (same content) but their masks disagree in "
                f"{group.differing_pixels} pixels; keep the right mask and remove the other copy",
            ))  # fmt: skip
        else:
            out.append(Issue(
                str(ref.image), WARNING,
                f"identical image to {others} (same content); splits keep copies on one side, "
                "but remove the extra copy so that it does not count twice",
            ))  # fmt: skip
    return out


def check_datasets(roots: Sequence[Path], progress: bool = True) -> list[CheckReport]:
    """:func:`check_dataset` of each folder, plus exact duplicate images within and across
    the folders (a warning on each copy; an error when the copies' masks disagree)."""
    scans = [_scan(Path(root), progress) for root in roots]
    refs = [r for scan in scans for r in scan.refs]
    hashes = {k: v for scan in scans for k, v in scan.hashes.items()}
    owner = {r.key: scan for scan in scans for r in scan.refs}
    for group in duplicate_groups(refs, hashes):
        for ref, issue in zip(group.refs, duplicate_issues(group), strict=True):
            owner[ref.key].issues.append(issue)
    return [_report(scan) for scan in scans]


def _report(scan: _Scan) -> CheckReport:
    files = len(scan.refs) + sum(r.mask is not None for r in scan.refs)
    issues = tuple(scan.issues)
    return CheckReport(
        str(scan.root), files, len(scan.refs), is_labeled(scan.refs), issues, scan.notes
    )


def check_dataset(root: Path, progress: bool = True) -> CheckReport:
    """Check every file of the dataset at ``root``; DatasetError only if no dataset is found.

    A missing mask is a warning only where masks are expected: in a split (or a flat folder)
    where other images have one. A split without any mask is read as unlabeled (a note).
    Exact duplicate images in the folder are reported (:func:`check_datasets`).
    """
    return check_datasets([root], progress)[0]
