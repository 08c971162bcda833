"""A benchmark held out of a patch folder, spatially, without leaks.

The reviewed patches of ``monitor export-reviews`` are the best judge of a model for the
area they come from, but only those never trained on. :func:`holdout_split` puts a share
of them aside as ``benchmark`` and splits the rest into ``train``/``val``:

- patches are first joined into groups that must not be separated: identical images and
  overlapping windows (:mod:`slidewatch.data.leakage`, by the bounds of ``index.geojson``),
  and every window of the same landslide (the ``group`` property the export writes);
- the benchmark is a spatial block: groups ordered by their centre (per CRS, west to east,
  then south to north), taken from the east until the share is reached, so it is a region
  of its own rather than patches scattered between training ones;
- the rest is split by :func:`slidewatch.data.splits.split_apart` (seeded, leak-free).

The split is written as ``split.json`` in the folder (``train``, ``val``, ``benchmark``):
``train --split DIR/split.json`` trains on it, ``models compare --data DIR`` scores
``benchmark``. No torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.data.leakage import (
    connected_atoms,
    duplicate_sets,
    footprints,
    image_hashes,
    overlapping_pairs,
)
from slidewatch.data.patch_index import INDEX_GEOJSON
from slidewatch.data.splits import read_split, split_apart, write_split
from slidewatch.errors import ConfigError, DatasetError

SPLIT_FILE = "split.json"
BENCHMARK = "benchmark"


def index_groups(folder: Path) -> dict[Path, str]:
    """Image path (resolved) -> ``group`` of the patches listed in a folder's index."""
    try:
        payload = json.loads((Path(folder) / INDEX_GEOJSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for feature in payload.get("features", []):
        props = feature.get("properties", {}) if isinstance(feature, dict) else {}
        if props.get("group") and props.get("image"):
            out[(Path(folder) / props["image"]).resolve()] = str(props["group"])
    return out


def _same_group_pairs(refs: Sequence[PatchRef], folder: Path) -> list[tuple[PatchRef, PatchRef]]:
    groups = index_groups(folder)
    first: dict[str, PatchRef] = {}
    pairs = []
    for ref in refs:
        group = groups.get(ref.image.resolve())
        if group is None:
            continue
        if group in first:
            pairs.append((first[group], ref))
        else:
            first[group] = ref
    return pairs


def holdout_split(
    folder: Path, fraction: float = 0.25, val_fraction: float = 0.2, seed: int = 42
) -> dict[str, list[PatchRef]]:
    """``train``/``val``/``benchmark`` of the labelled patches of ``folder`` (module doc)."""
    if not 0 < fraction < 1:
        raise ConfigError(f"benchmark fraction {fraction} must lie in (0, 1); e.g. 0.25")
    refs = sorted((r for r in discover_many([Path(folder)]) if r.mask is not None),
                  key=lambda r: r.key)  # fmt: skip
    if len(refs) < 3:
        raise DatasetError(
            f"{folder}: {len(refs)} labelled patches; a benchmark and a training split need "
            "at least 3: export more reviews"
        )
    hashes = image_hashes(refs)
    atoms = duplicate_sets(refs, hashes)
    pairs = overlapping_pairs(refs) + _same_group_pairs(refs, Path(folder))
    groups = connected_atoms(atoms, pairs)
    found = footprints(refs)
    members = [[r for a in g for r in atoms[a]] for g in groups]

    def place(group: list[PatchRef]) -> tuple[str, float, float]:
        boxes = [found[r.key] for r in group if r.key in found]
        if not boxes:
            return ("", 0.0, 0.0)
        xs = [(b[0] + b[2]) / 2 for _, b in boxes]
        ys = [(b[1] + b[3]) / 2 for _, b in boxes]
        return (boxes[0][0], sum(xs) / len(xs), sum(ys) / len(ys))

    ordered = sorted(members, key=place, reverse=True)  # east (and north) first
    target = max(1, round(fraction * len(refs)))
    bench: list[PatchRef] = []
    for group in ordered:
        if len(bench) >= target or len(bench) + len(group) > len(refs) - 2:
            break
        bench += group
    if not bench:
        raise DatasetError(
            f"{folder}: its patches form one connected group (the same landslide or "
            "overlapping windows); no benchmark can be held out without a leak"
        )
    taken = {r.key for r in bench}
    rest = [r for r in refs if r.key not in taken]
    parts = split_apart(rest, val_fraction, seed, hashes).as_dict()
    return {**parts, BENCHMARK: sorted(bench, key=lambda r: r.key)}


def write_holdout(folder: Path, fraction: float = 0.25, seed: int = 42) -> dict[str, int]:
    """Write ``FOLDER/split.json`` (:func:`holdout_split`); return the size of each part."""
    parts = holdout_split(folder, fraction, seed=seed)
    write_split(Path(folder) / SPLIT_FILE, parts)
    return {name: len(refs) for name, refs in parts.items()}


def benchmark_refs(folders: Sequence[Path]) -> tuple[list[PatchRef], str]:
    """The patches a benchmark scores: the ``benchmark`` part of each folder's
    ``split.json`` when it has one, else all its labelled patches; and what they are."""
    chosen: list[PatchRef] = []
    what = []
    for folder in map(Path, folders):
        refs = [r for r in discover_many([folder]) if r.mask is not None]
        split = folder / SPLIT_FILE
        parts = read_split(split, refs) if split.is_file() else {}
        if BENCHMARK in parts:
            chosen += parts[BENCHMARK]
            what.append(f"the benchmark held out in {split} ({len(parts[BENCHMARK])})")
        else:
            chosen += refs
            what.append(f"all labelled patches of {folder} ({len(refs)})")
    if not chosen:
        raise DatasetError(
            f"{', '.join(map(str, folders))}: no labelled patches to judge models on; give a "
            "folder of patches with masks"
        )
    return chosen, "; ".join(what)
