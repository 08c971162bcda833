"""``slidewatch label export``: the finished patches of a labeled folder as a clean dataset.

Only patches in state ``done`` (a saved mask, or a mask the dataset came with) are copied,
byte for byte, into the flat layout ``OUT/img/image_N.h5`` + ``OUT/mask/mask_N.h5``, ready
for ``train --data OUT``. Patch stems are kept when unique; otherwise (the official layout
repeats ``image_1`` in each split) patches are numbered 1..N. ``OUT/labeling.json`` maps
each exported stem to its original key, and ``OUT/labeling-log.jsonl`` is a copy of the
annotation log. Written into a temporary folder and renamed when complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from slidewatch.atomic import atomic_folder
from slidewatch.errors import DatasetError
from slidewatch.labeling.patches import PatchInfo, find_patches, state_of
from slidewatch.labeling.store import LabelStore


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_labeled` wrote."""

    out: Path
    patches: int
    """Patches exported (state done)."""
    left_out: int
    """Patches not exported (unlabeled, in progress, skipped or unreadable)."""


def _names(done: list[PatchInfo]) -> list[str]:
    stems = [p.image.stem for p in done]
    if len(set(stems)) == len(stems):
        return stems
    return [f"image_{i}" for i in range(1, len(done) + 1)]


def export_labeled(root: Path, out: Path, overwrite: bool = False) -> ExportResult:
    """Copy the done patches of ``root`` into the flat dataset ``out``."""
    root, out = Path(root), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise DatasetError(f"{out} exists and is not empty; choose another --out or --overwrite")
    infos = find_patches(root)
    logged = LabelStore(root).states()
    done = [p for p in infos if p.error is None and state_of(p, logged).state == "done"]
    if not done:
        raise DatasetError(
            f"{root}: no finished patch to export ({len(infos)} patches, none done); "
            "label and save some first"
        )
    with atomic_folder(out) as tmp:
        _write(root, tmp, done)
    return ExportResult(out, len(done), len(infos) - len(done))


def _write(root: Path, folder: Path, done: list[PatchInfo]) -> None:
    (folder / "img").mkdir(parents=True)
    (folder / "mask").mkdir()
    mapping = {}
    for info, stem in zip(done, _names(done), strict=True):
        suffix = stem.split("_", 1)[1] if "_" in stem else stem
        shutil.copy2(info.image, folder / "img" / f"{stem}.h5")
        shutil.copy2(info.mask, folder / "mask" / f"mask_{suffix}.h5")
        mapping[stem] = info.key
    store = LabelStore(root)
    if store.log_path.is_file():
        shutil.copy2(store.log_path, folder / "labeling-log.jsonl")
    summary = {"source": str(root.resolve()), "patches": mapping}
    (folder / "labeling.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
