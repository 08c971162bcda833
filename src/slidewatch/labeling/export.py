"""``slidewatch label export``: the finished patches of a labeled folder as a clean dataset.

Only patches in state ``done`` (a saved mask, or a mask the dataset came with) are copied,
byte for byte, into the flat layout ``OUT/img/image_N.h5`` + ``OUT/mask/mask_N.h5``, ready
for ``train --data OUT``. Patch stems are kept when unique; otherwise (the official layout
repeats ``image_1`` in each split) patches are numbered 1..N. ``OUT/labeling.json`` maps
each exported stem to its original key, and ``OUT/labeling-log.jsonl`` is a copy of the
annotation log. The index of the patches (``index.geojson``: bounds, CRS, source, reviews)
and their pre-event images (``pre/``) come along, renamed. Written into a temporary folder
and renamed when complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from slidewatch.atomic import atomic_folder
from slidewatch.data.patch_index import INDEX_GEOJSON, PRE_DIR, mask_id, pre_image_path
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


def _carry_index(root: Path, folder: Path, done: list[PatchInfo], stems: list[str]) -> None:
    """The index features (bounds, CRS, source, reviews) of the exported patches, renamed,
    so that splits of the export still keep overlapping windows and landslides together."""
    try:
        index = json.loads((root / INDEX_GEOJSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    by_image = {str(f.get("properties", {}).get("image")): f for f in index.get("features", [])}
    kept = []
    for info, stem in zip(done, stems, strict=True):
        feature = by_image.get(info.image.relative_to(root).as_posix())
        if feature is None:
            continue
        props = dict(feature["properties"], id=stem, image=f"img/{stem}.h5",
                     mask=f"mask/{mask_id(stem)}.h5")  # fmt: skip
        if props.get("pre"):
            props["pre"] = f"{PRE_DIR}/{stem}.h5"
        kept.append({**feature, "id": stem, "properties": props})
    if kept:
        doc = {**index, "features": kept}
        (folder / INDEX_GEOJSON).write_text(json.dumps(doc, indent=1), encoding="utf-8")


def _write(root: Path, folder: Path, done: list[PatchInfo]) -> None:
    (folder / "img").mkdir(parents=True)
    (folder / "mask").mkdir()
    mapping = {}
    for info, stem in zip(done, _names(done), strict=True):
        suffix = stem.split("_", 1)[1] if "_" in stem else stem
        shutil.copy2(info.image, folder / "img" / f"{stem}.h5")
        shutil.copy2(info.mask, folder / "mask" / f"mask_{suffix}.h5")
        before = pre_image_path(info.image)
        if before.is_file():
            (folder / PRE_DIR).mkdir(exist_ok=True)
            shutil.copy2(before, folder / PRE_DIR / f"{stem}.h5")
        mapping[stem] = info.key
    _carry_index(root, folder, done, _names(done))
    store = LabelStore(root)
    if store.log_path.is_file():
        shutil.copy2(store.log_path, folder / "labeling-log.jsonl")
    summary = {"source": str(root.resolve()), "patches": mapping}
    (folder / "labeling.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
