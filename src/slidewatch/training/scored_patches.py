"""Which labelled patches ``evaluate`` scores, and how many of them the model trained on.

A model directory ``RUN_DIR/model`` written by ``train`` has its run's ``split.json`` beside it;
by default the model is scored on that run's validation patches, so a number never silently
includes the patches the model learnt from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.data.splits import official_split, read_split
from slidewatch.errors import DatasetError

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
        chosen = [r for r in refs if r.key in own_val]
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


def training_overlap(model_dir: Path, refs: Sequence[PatchRef]) -> int:
    """How many of ``refs`` the model was trained on (by its run's split file)."""
    trained_on = _run_split_keys(model_dir).get("train", set())
    return sum(r.key in trained_on for r in refs)
