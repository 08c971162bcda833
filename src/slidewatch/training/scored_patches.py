"""Which labelled patches ``evaluate`` scores, and how many of them the model trained on.

A model directory ``RUN_DIR/model`` written by ``train`` has its run's ``split.json`` beside it;
by default the model is scored on that run's validation patches, so a number never silently
includes the patches the model learnt from. ``RUN_DIR/fingerprints.json`` holds the content
hash of every patch of the split (:func:`slidewatch.data.leakage.image_hash`), so a copy of a
training patch under another name or folder also counts as a training patch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.data.leakage import image_hashes
from slidewatch.data.splits import official_split, read_split, write_json
from slidewatch.errors import DatasetError, SlidewatchError

FINGERPRINTS = "fingerprints.json"
"""Beside ``split.json``: ``{"train": {key: image hash}, "val": {...}}``."""

SPLIT_NAMES = ("all", "train", "val", "test")


def run_split_file(model_dir: Path) -> Path:
    """``RUN_DIR/split.json`` of the run that wrote ``model_dir`` (``RUN_DIR/model``)."""
    return Path(model_dir).parent / "split.json"


def _run_split_keys(model_dir: Path) -> dict[str, set[str]]:
    """The patch keys of each part of the model's own run split ({} when none recorded)."""
    path = run_split_file(model_dir)
    if not path.is_file():
        return {}
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {str(k): set(map(str, v)) for k, v in payload.items() if isinstance(v, list)}


def select_refs(
    model_dir: Path, data_dirs: Sequence[Path], split: str | None
) -> tuple[list[PatchRef], str]:
    """Labelled patches of ``split`` and a sentence saying which they are.

    ``None`` (the default): the model's own validation patches when its run recorded a
    split (``RUN_DIR/split.json``) and the data holds them, else every labelled patch;
    ``all``; ``train``/``val`` of the model's own run, or else the official split;
    ``test``; or the ``val`` entry of a split-file path.
    """
    refs = [r for r in discover_many([Path(d) for d in data_dirs]) if r.mask is not None]
    if not refs:
        raise DatasetError(
            f"{', '.join(map(str, data_dirs))}: no labelled patches; evaluation needs masks"
        )
    run_split = run_split_file(model_dir)
    if split is None:
        own_val = _run_split_keys(model_dir).get("val", set())
        chosen = [r for r in refs if r.key in own_val or r.legacy_key in own_val]
        if chosen:
            return chosen, f"the validation split of the model's run ({run_split})"
        return refs, "all labelled patches (the model's run recorded no split of this data)"
    if split == "all":
        return refs, "all labelled patches"
    if split in ("train", "val") and run_split.is_file():
        return read_split(run_split, refs)[split], f"the {split} split of {run_split}"
    if split in SPLIT_NAMES:
        return official_split(refs, split), f"the official {split} split of the layout"
    parts = read_split(Path(split), refs)
    if "val" not in parts:
        raise DatasetError(f"{split}: the split file has no 'val' entry; name the split to use")
    return parts["val"], f"the 'val' entry of {split}"


def write_fingerprints(
    run_dir: Path, parts: dict[str, list[PatchRef]], hashes: dict[str, str]
) -> Path:
    """Write ``RUN_DIR/fingerprints.json``: the image hash of every patch of each split part."""
    payload = {
        name: {r.key: hashes[r.key] for r in refs if r.key in hashes}
        for name, refs in parts.items()
    }
    return write_json(Path(run_dir) / FINGERPRINTS, payload)


def _training_hashes(model_dir: Path, trained_on: set[str]) -> set[str] | None:
    """Image hashes of the run's training patches: from ``fingerprints.json``, else hashed
    from the training data folders the model file names (None when neither is available)."""
    path = Path(model_dir).parent / FINGERPRINTS
    if path.is_file():
        try:
            payload = json.loads(path.read_text())
            return {str(h) for h in payload.get("train", {}).values()}
        except (OSError, ValueError, AttributeError):
            pass
    from slidewatch.models.modelfile import read_spec

    try:
        dirs = [Path(d) for d in read_spec(model_dir).training.get("data_dirs", [])]
        refs = [r for r in discover_many(dirs) if r.key in trained_on] if dirs else []
    except (SlidewatchError, OSError):
        return None
    return set(image_hashes(refs).values()) if refs else None


def training_overlap(model_dir: Path, refs: Sequence[PatchRef]) -> int:
    """How many of ``refs`` the model was trained on: by its run's split file, or because
    their image is identical to one of its training patches."""
    trained_on = _run_split_keys(model_dir).get("train", set())
    if not trained_on:
        return 0
    train_hashes = _training_hashes(model_dir, trained_on) or set()
    scored = image_hashes([r for r in refs if r.key not in trained_on]) if train_hashes else {}
    return sum(
        r.key in trained_on or r.legacy_key in trained_on or scored.get(r.key) in train_hashes
        for r in refs
    )
