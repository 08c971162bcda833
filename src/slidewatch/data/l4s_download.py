"""``slidewatch data download landslide4sense``: the paper's data, fetched only when asked.

Two sources hold Landslide4Sense (3799 training, 245 validation, 800 test patches):

- ``zenodo``: record 10463239, one zip per split (:data:`ZENODO_FILES`), extracted into the
  official layout (``TrainData/img``, ``TrainData/mask``, ``ValidData/…``, ``TestData/…``);
- ``huggingface``: the mirror ``ibm-nasa-geospatial/Landslide4sense``, one HDF5 file per
  patch (``images/<split>/image_N.h5``, ``annotations/<split>/mask_N.h5``), kept in that
  layout.

Both layouts are what ``data check``, ``train`` and ``experiments`` read. The file names and
counts are module constants (:data:`ZENODO_FILES`, :data:`HF_SPLIT_PATCHES`; tests replace
them). Sizes and checksums that the constants do not state come from the source's own
listing (Zenodo's files API: md5; the Hugging Face tree API: the LFS sha256) at download
time (:mod:`slidewatch.data.l4s_listing`); ``download.json`` in the output records, per
file, which one checked it. Everything is fetched into ``OUT/.download/`` (resumable
``.part`` files) and a split's folder appears under its final name only when all of its
files arrived and matched.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from slidewatch.atomic import write_text_atomic
from slidewatch.data.http_download import download_file
from slidewatch.data.l4s_listing import expectations
from slidewatch.errors import ConfigError, DatasetError, SourceError

SPLITS = ("train", "validation", "test")
OFFICIAL_FOLDERS = {"train": "TrainData", "validation": "ValidData", "test": "TestData"}
"""Split -> the official layout's folder (what each Zenodo zip holds)."""
PARTIAL = ".download"
"""Folder inside ``--out`` for files in transit."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a source, with what is known of it in advance."""

    path: str
    """Relative to the source's base URL (also its place under ``OUT/.download``)."""
    split: str
    size: int | None = None
    """Bytes, when stated here (else taken from the source's listing)."""
    checksum: str | None = None
    """``md5:HEX`` or ``sha256:HEX``, when stated here."""


@dataclass(frozen=True)
class L4SSource:
    """Where one copy of Landslide4Sense lives."""

    name: str
    base_url: str
    """Files are fetched from ``base_url/path`` (``--base-url`` for a mirror)."""
    api_url: str
    """The listing that states sizes and checksums (``--api-url``)."""
    layout: str
    """``official`` (zips of TrainData/ValidData/TestData) or ``huggingface`` (files)."""


ZENODO_FILES: tuple[RemoteFile, ...] = (
    RemoteFile("TrainData.zip", "train"),
    RemoteFile("ValidData.zip", "validation"),
    RemoteFile("TestData.zip", "test"),
)
"""The record's zips. Names from public setup scripts that download the record; sizes and
checksums are not stated here (unverified from this machine): Zenodo's files API gives them."""
HF_SPLIT_PATCHES = {"train": 3799, "validation": 245, "test": 800}
"""Patches per split of the Hugging Face mirror (its dataset card), each an image and a mask."""
SOURCES: dict[str, L4SSource] = {
    "zenodo": L4SSource(
        "zenodo",
        "https://zenodo.org/records/10463239/files",
        "https://zenodo.org/api/records/10463239/files",
        "official",
    ),
    "huggingface": L4SSource(
        "huggingface",
        "https://huggingface.co/datasets/ibm-nasa-geospatial/Landslide4sense/resolve/main",
        "https://huggingface.co/api/datasets/ibm-nasa-geospatial/Landslide4sense/tree/main",
        "huggingface",
    ),
}
"""The sources by name (``--source``)."""


@dataclass(frozen=True)
class DownloadResult:
    """What one ``download`` left in ``out``."""

    out: Path
    layout: str
    splits: tuple[str, ...]
    """Splits now present (downloaded now or before)."""
    fetched: int
    """Files downloaded by this call."""
    unverified: tuple[str, ...] = field(default=())
    """Files accepted without a checksum (only with ``allow_unverified``)."""


def parse_splits(text: str | Sequence[str]) -> tuple[str, ...]:
    """``train,validation,test`` (also ``val``) -> the split names; ConfigError otherwise."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    names = ["validation" if s == "val" else s for s in names if s]
    bad = [s for s in names if s not in SPLITS]
    if bad or not names:
        raise ConfigError(
            f"unknown split(s) {', '.join(bad) or '(none)'}; valid: {', '.join(SPLITS)}"
        )
    return tuple(dict.fromkeys(names))


def source_files(source: L4SSource, splits: Sequence[str]) -> list[RemoteFile]:
    """The files of ``splits`` in ``source``."""
    if source.layout == "official":
        return [f for f in ZENODO_FILES if f.split in splits]
    return [
        RemoteFile(f"{folder}/{split}/{stem}_{n}.h5", split)
        for split in splits
        for folder, stem in (("images", "image"), ("annotations", "mask"))
        for n in range(1, HF_SPLIT_PATCHES[split] + 1)
    ]


def _final_folders(out: Path, source: L4SSource, split: str) -> list[Path]:
    if source.layout == "official":
        return [out / OFFICIAL_FOLDERS[split]]
    return [out / "images" / split, out / "annotations" / split]


def _extract_zip(archive: Path, work: Path) -> Path:
    """Extract ``archive`` into ``work``; return the folder holding ``img/``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as z:
            for member in z.infolist():
                if not (work / member.filename).resolve().is_relative_to(work.resolve()):
                    raise SourceError(f"{archive}: member {member.filename!r} leaves the folder")
            z.extractall(work)
    except zipfile.BadZipFile as exc:
        raise SourceError(
            f"{archive}: not a zip archive ({exc}); remove it and run again"
        ) from None
    if (work / "img").is_dir():
        return work
    found = sorted(p.parent for p in work.rglob("img") if p.is_dir())
    if not found:
        raise SourceError(f"{archive}: holds no img/ folder; not a Landslide4Sense split archive")
    return found[0]


def _place(out: Path, partial: Path, source: L4SSource, split: str, files: Sequence[Path]) -> None:
    """Move one complete split under its final name(s)."""
    if source.layout == "official":
        root = _extract_zip(files[0], partial / "extract" / split)
        os.replace(root, out / OFFICIAL_FOLDERS[split])
        return
    for folder in ("images", "annotations"):
        final = out / folder / split
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial / folder / split, final)


def _record(out: Path, source: L4SSource, base_url: str, checked: list[Any]) -> None:
    """``OUT/download.json``: the source, and per file its URL, size, checksum and who said so."""
    path = out / "download.json"
    try:
        old = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        old = {}
    files = {f["path"]: f for f in old.get("files", []) if isinstance(f, dict) and "path" in f}
    for f, expected, by in checked:
        files[f.path] = {"path": f.path, "split": f.split, "url": f"{base_url}/{f.path}",
                         **asdict(expected), "checked_by": by}  # fmt: skip
    record = {"dataset": "landslide4sense", "source": source.name, "layout": source.layout,
              "files": sorted(files.values(), key=lambda f: f["path"])}  # fmt: skip
    write_text_atomic(path, json.dumps(record, indent=1))


def download_l4s(
    out: Path,
    source: str = "zenodo",
    splits: Sequence[str] = SPLITS,
    base_url: str | None = None,
    api_url: str | None = None,
    allow_unverified: bool = False,
    progress: bool = True,
) -> DownloadResult:
    """Download the ``splits`` of Landslide4Sense from ``source`` into ``out`` (module doc).

    Splits already under their final names are kept; a rerun resumes what was in transit.
    """
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    src, chosen = SOURCES[source], parse_splits(splits)
    base, api = (base_url or src.base_url).rstrip("/"), (api_url or src.api_url).rstrip("/")
    out, partial = Path(out), Path(out) / PARTIAL
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file; give a folder with --out")
    todo = [s for s in chosen if not all(p.is_dir() for p in _final_folders(out, src, s))]
    files = source_files(src, todo)
    checked = expectations(files, src, api, todo, allow_unverified) if files else []
    sizes = [e.size for _, e, _ in checked]
    total = sum(s for s in sizes if s is not None) if all(s is not None for s in sizes) else None
    bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"landslide4sense ({source})",
               disable=None if progress else True)  # fmt: skip
    with bar:
        for split in todo:
            mine = [(f, e) for f, e, _ in checked if f.split == split]
            paths = [download_file(f"{base}/{f.path}", partial / f.path, e, bar) for f, e in mine]
            _place(out, partial, src, split, paths)
    _record(out, src, base, checked)
    shutil.rmtree(partial, ignore_errors=True)
    unverified = tuple(f.path for f, _, by in checked if by == "unverified")
    return DownloadResult(out, src.layout, chosen, len(files), unverified)
