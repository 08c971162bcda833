"""A benchmark held out of a patch folder, spatially, without leaks.

The reviewed patches of ``monitor export-reviews`` are the best judge of a model for the
area they come from, but only those never trained on. :func:`holdout_split` puts a share
of them aside as ``benchmark`` and splits the rest into ``train``/``val``:

- patches are joined when they must not be separated: identical images and overlapping
  windows (:mod:`slidewatch.data.leakage`, by the bounds of ``index.geojson``), and every
  window of the same landslide (the ``groups`` property the export writes);
- the benchmark is a spatial block: patches ordered by their centre (per CRS, east to west,
  then north to south), taken from the east until the share is reached, so it is a region
  of its own rather than patches scattered between training ones;
- every other patch joined to a benchmark patch is set aside (``buffer``): in neither part;
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


def index_groups(folder: Path) -> dict[Path, list[str]]:
    """Image path (resolved) -> ``groups`` (the landslides) of the patches of an index."""
    try:
        payload = json.loads((Path(folder) / INDEX_GEOJSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for feature in payload.get("features", []):
        props = feature.get("properties", {}) if isinstance(feature, dict) else {}
        if isinstance(props.get("groups"), list) and props.get("image"):
            out[(Path(folder) / props["image"]).resolve()] = [str(g) for g in props["groups"]]
    return out


def holdout_split(
    folder: Path, fraction: float = 0.25, val_fraction: float = 0.2, seed: int = 42
) -> dict[str, list[PatchRef]]:
    """``train``/``val``/``benchmark`` (and ``buffer``) of the labelled patches of
    ``folder`` (module doc)."""
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
    found = footprints(refs)

    def east_first(ref: PatchRef) -> tuple[str, float, float]:
        if ref.key not in found:
            return ("", 0.0, 0.0)
        crs, (x0, y0, x1, y1) = found[ref.key]
        return (crs, (x0 + x1) / 2, (y0 + y1) / 2)

    ordered = sorted(refs, key=east_first, reverse=True)
    bench = ordered[: max(1, round(fraction * len(refs)))]
    near = _neighbours(refs, hashes, Path(folder))
    taken = {r.key for r in bench}
    buffer = {k for r in bench for k in near.get(r.key, ())} - taken
    rest = [r for r in refs if r.key not in taken | buffer]
    if len(rest) < 2:
        raise DatasetError(
            f"{folder}: holding out {len(bench)} patches leaves {len(rest)} to train on once "
            "the patches overlapping them or showing the same landslides are set aside; "
            "export reviews from a larger area or lower --hold-out"
        )
    parts = split_apart(rest, val_fraction, seed, hashes).as_dict()
    parts["buffer"] = parts.get("buffer", []) + [r for r in refs if r.key in buffer]
    return {**parts, BENCHMARK: sorted(bench, key=lambda r: r.key)}


def _neighbours(refs: Sequence[PatchRef], hashes: dict[str, str],
                folder: Path) -> dict[str, set[str]]:  # fmt: skip
    """Patch key -> keys of the patches that would leak into it across a split: identical
    images, overlapping windows, windows showing one of the same landslides (directly:
    two windows that only share a landslide with a third do not leak into each other)."""
    pairs = overlapping_pairs(refs)
    for copies in duplicate_sets(refs, hashes):
        pairs += [(copies[0], other) for other in copies[1:]]
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a.key, set()).add(b.key)
        out.setdefault(b.key, set()).add(a.key)
    groups = index_groups(folder)
    members: dict[str, set[str]] = {}
    for ref in refs:
        for group in groups.get(ref.image.resolve(), []):
            members.setdefault(group, set()).add(ref.key)
    for keys in members.values():  # a landslide's windows leak into each other even apart
        for k in keys:
            out.setdefault(k, set()).update(keys - {k})
    return out


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
