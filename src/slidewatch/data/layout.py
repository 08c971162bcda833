"""Finding the patches of an L4S dataset on disk, whatever its folder layout.

Three layouts are detected (see :data:`LAYOUTS`); each patch becomes a :class:`PatchRef`
that remembers its dataset (``source``) so several datasets can be combined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slidewatch.errors import DatasetError

OFFICIAL_SPLITS: dict[str, str] = {"TrainData": "train", "ValidData": "val", "TestData": "test"}
"""Official L4S folder name -> split name."""

HF_SPLITS: dict[str, str] = {
    "train": "train",
    "training": "train",
    "validation": "val",
    "valid": "val",
    "val": "val",
    "test": "test",
}
"""Hugging Face mirror split folder -> split name."""

LAYOUTS: dict[str, str] = {
    "official": "TrainData/img + TrainData/mask (and ValidData/..., TestData/...)",
    "huggingface": "images/<split>/image_N.h5 + annotations/<split>/mask_N.h5",
    "flat": "img/image_N.h5 + mask/mask_N.h5, or image_N.h5 files directly in the folder",
}
"""Accepted layouts, as shown in error messages."""

_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class PatchRef:
    """One patch on disk: an image file and, when labeled, its mask file."""

    id: str
    """Image file stem, e.g. ``image_12``."""
    image: Path
    """Path of the ``image_N.h5`` file."""
    mask: Path | None
    """Path of the matching ``mask_N.h5`` file, or None for an unlabeled patch."""
    source: str
    """Dataset name (by default the dataset folder's name)."""
    split: str | None = None
    """``train``/``val``/``test`` for layouts that define splits, else None."""

    @property
    def key(self) -> str:
        """``source/split/id`` (``source/id`` without a split): unique across combined
        datasets, and across the splits of one (the benchmark numbers each split's files
        from 1, so ``TrainData/img/image_1.h5`` and ``ValidData/img/image_1.h5`` both exist)."""
        return f"{self.source}/{self.split}/{self.id}" if self.split else self.legacy_key

    @property
    def legacy_key(self) -> str:
        """``source/id``, the key of split files written before 0.2 (ambiguous across splits)."""
        return f"{self.source}/{self.id}"


def _natural(path: Path) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p for p in _NUMBER.split(path.stem))


def _h5_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix == ".h5" and p.is_file()), key=_natural)


def _is_mask(path: Path) -> bool:
    return path.stem.startswith("mask")


def _mask_name(image: Path) -> str:
    stem = image.stem
    suffix = stem.split("_", 1)[1] if "_" in stem else stem
    return f"mask_{suffix}.h5"


def detect_layout(root: Path) -> str:
    """``"official"``, ``"huggingface"`` or ``"flat"``; DatasetError when none fits."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found; check the path")
    if any((root / name / "img").is_dir() for name in OFFICIAL_SPLITS):
        return "official"
    _refuse_rasters(root)
    if (root / "images").is_dir() and any((root / "images").iterdir()):
        return "huggingface"
    if _h5_files(root / "img") or any(not _is_mask(p) for p in _h5_files(root)):
        return "flat"
    accepted = "; ".join(f"{k}: {v}" for k, v in LAYOUTS.items())
    raise DatasetError(
        f"{root}: no L4S patches found (accepted layouts: {accepted}); "
        "point to a folder in one of these layouts"
    )


_RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".jp2")


def _refuse_rasters(root: Path) -> None:
    """A folder of GeoTIFF scenes or tiles (no HDF5) is a scene, not a patch dataset: say so."""
    folders = [root, root / "images", root / "img"]
    files = [p for f in folders if f.is_dir() for p in f.iterdir() if p.is_file()]
    rasters = sorted(p for p in files if p.suffix.lower() in _RASTER_SUFFIXES)
    if rasters and not any(p.suffix == ".h5" for p in files):
        scene = rasters[0].parent
        raise DatasetError(
            f"{root}: holds {len(rasters)} GeoTIFF/raster files ({rasters[0].name}, ...) and no "
            "L4S patches (HDF5); it is a scene, not a patch dataset. Cut it into patches with "
            f"'slidewatch data build-patches --scene {scene} --out PATCHES' (add --labels), "
            f"or run 'slidewatch detect {scene}' on it"
        )


def _pair(
    images: list[Path], mask_dir: Path | None, source: str, split: str | None
) -> list[PatchRef]:
    refs = []
    for image in images:
        mask = mask_dir / _mask_name(image) if mask_dir is not None else None
        refs.append(
            PatchRef(image.stem, image, mask if mask and mask.is_file() else None, source, split)
        )
    return refs


def _discover_official(root: Path, source: str) -> list[PatchRef]:
    refs: list[PatchRef] = []
    for folder, split in OFFICIAL_SPLITS.items():
        refs += _pair(_h5_files(root / folder / "img"), root / folder / "mask", source, split)
    return refs


def _discover_huggingface(root: Path, source: str) -> list[PatchRef]:
    refs: list[PatchRef] = []
    for folder in sorted(p for p in (root / "images").iterdir() if p.is_dir()):
        split = HF_SPLITS.get(folder.name.lower(), folder.name)
        refs += _pair(_h5_files(folder), root / "annotations" / folder.name, source, split)
    return refs


def _discover_flat(root: Path, source: str) -> list[PatchRef]:
    if (root / "img").is_dir():
        return _pair(_h5_files(root / "img"), root / "mask", source, None)
    images = [p for p in _h5_files(root) if not _is_mask(p)]
    return _pair(images, root, source, None)


def discover(root: Path, source: str | None = None) -> list[PatchRef]:
    """All patches under ``root`` (any accepted layout), in natural file order."""
    root = Path(root)
    layout = detect_layout(root)
    name = source or root.resolve().name
    finder = {"official": _discover_official, "huggingface": _discover_huggingface}
    refs = finder.get(layout, _discover_flat)(root, name)
    if not refs:
        raise DatasetError(
            f"{root}: {layout} layout but no image_N.h5 files in it; expected {LAYOUTS[layout]}"
        )
    return refs


def discover_many(roots: Sequence[Path], sources: Sequence[str] | None = None) -> list[PatchRef]:
    """Combine several datasets; every ref keeps its source, keys must stay unique."""
    if sources is not None and len(sources) != len(roots):
        raise DatasetError(
            f"{len(roots)} dataset folders but {len(sources)} source names; give one per folder"
        )
    refs: list[PatchRef] = []
    for i, root in enumerate(roots):
        refs += discover(Path(root), sources[i] if sources else None)
    seen: set[str] = set()
    for ref in refs:
        if ref.key in seen:
            raise DatasetError(
                f"patch key {ref.key!r} occurs twice ({ref.image}); two datasets share the "
                "source name: give each folder its own source name"
            )
        seen.add(ref.key)
    return refs


def _mask_folders(root: Path, layout: str) -> list[Path]:
    if layout == "official":
        return [root / name / "mask" for name in OFFICIAL_SPLITS]
    if layout == "huggingface":
        folder = root / "annotations"
        return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [root / "mask"] if (root / "img").is_dir() else [root]


def orphan_masks(root: Path, refs: Sequence[PatchRef]) -> list[Path]:
    """Mask files under ``root`` that no image of ``refs`` uses (their image is missing)."""
    used = {r.mask for r in refs if r.mask is not None}
    folders = _mask_folders(Path(root), detect_layout(root))
    return [m for d in folders for m in _h5_files(d) if _is_mask(m) and m not in used]


def is_labeled(refs: Sequence[PatchRef]) -> bool:
    """True when at least one ref has a mask (the dataset is meant to be labeled)."""
    return any(r.mask is not None for r in refs)


def default_mask_path(root: Path, image: Path, layout: str | None = None) -> Path:
    """Where :func:`discover` looks for the mask of ``image`` (a patch under ``root``), whether
    or not it exists: ``X/img/image_N.h5`` → ``X/mask/mask_N.h5`` (flat and official layouts),
    ``images/<split>/image_N.h5`` → ``annotations/<split>/mask_N.h5``, else beside the image.
    ``layout``: the folder's layout when already known (see :func:`detect_layout`)."""
    root, image = Path(root), Path(image)
    layout = layout or detect_layout(root)
    folder = image.parent
    if layout == "huggingface":
        return root / "annotations" / folder.name / _mask_name(image)
    if layout == "official" or (root / "img").is_dir():
        return folder.parent / "mask" / _mask_name(image)
    return folder / _mask_name(image)
