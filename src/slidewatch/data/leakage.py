"""Patches that would leak between training and validation: exact duplicates and overlaps.

Two sources combined for training can hold the same image twice (a patch and its relabelled
copy); patches cut with a stride smaller than their size share pixels. Put on both sides of a
split, either makes validation scores flatter the model. Here:

- :func:`image_hash`: a content hash of an image as slidewatch reads it (float32 values, shape
  and band names), so a copy under another name, folder or file layout hashes alike;
- :func:`duplicate_groups`: images with the same hash, and whether their masks disagree;
- :func:`overlapping_pairs`: patches whose footprints (the ``bounds`` of ``index.geojson``
  that ``data build-patches`` writes beside them) overlap, in the same CRS;
- :func:`leak_groups`: the connected groups of both, which splits keep apart
  (:func:`slidewatch.data.splits.split_apart`).

No torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.data.layout import PatchRef
from slidewatch.data.patch_index import INDEX_GEOJSON
from slidewatch.errors import SlidewatchError

HASH_HEX_DIGITS = 32
"""Length of an image hash (BLAKE2b, 16 bytes)."""


def array_hash(image: np.ndarray, bands: Sequence[str]) -> str:
    """Content hash of an H×W×C float32 image with ``bands``."""
    values = np.ascontiguousarray(image, dtype=np.float32)
    digest = hashlib.blake2b(digest_size=HASH_HEX_DIGITS // 2)
    digest.update(repr((values.shape, tuple(bands))).encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


def image_hash(path: Path) -> str | None:
    """:func:`array_hash` of an image file (None when it cannot be read)."""
    try:
        return array_hash(read_image(path), read_bands(path))
    except (SlidewatchError, OSError):
        return None


def image_hashes(refs: Sequence[PatchRef]) -> dict[str, str]:
    """Patch key -> image hash of every readable image of ``refs``."""
    out = {}
    for ref in refs:
        found = image_hash(ref.image)
        if found is not None:
            out[ref.key] = found
    return out


@dataclass(frozen=True)
class DuplicateGroup:
    """Images with identical content."""

    refs: tuple[PatchRef, ...]
    """The copies, in the order given."""
    masks_disagree: bool
    """Whether two copies have masks that differ (or one has a mask that is not 0)."""
    differing_pixels: int
    """The most pixels in which two of the copies' masks differ."""


def _masks_differ(refs: Sequence[PatchRef]) -> int:
    masks = []
    for ref in refs:
        if ref.mask is None:
            continue
        try:
            masks.append(read_mask(ref.mask).astype(bool))
        except (SlidewatchError, OSError):
            continue
    worst = 0
    for i, a in enumerate(masks):
        for b in masks[i + 1 :]:
            worst = max(worst, int((a != b).sum()) if a.shape == b.shape else a.size)
    return worst


def duplicate_groups(refs: Sequence[PatchRef], hashes: dict[str, str]) -> list[DuplicateGroup]:
    """Groups of two or more ``refs`` whose images hash alike (``hashes``: key -> hash)."""
    by_hash: dict[str, list[PatchRef]] = {}
    for ref in refs:
        if ref.key in hashes:
            by_hash.setdefault(hashes[ref.key], []).append(ref)
    groups = []
    for copies in by_hash.values():
        if len(copies) > 1:
            differ = _masks_differ(copies)
            groups.append(DuplicateGroup(tuple(copies), differ > 0, differ))
    return groups


Footprint = tuple[str, tuple[float, float, float, float]]
"""(CRS, (minx, miny, maxx, maxy)) of a patch."""


def _index_footprints(index: Path) -> dict[Path, Footprint]:
    try:
        payload = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for feature in payload.get("features", []):
        props = feature.get("properties", {})
        try:
            image = (index.parent / props["image"]).resolve()
            x0, y0, x1, y1 = (float(v) for v in props["bounds"])
            out[image] = (str(props.get("crs", payload.get("crs_scene", ""))), (x0, y0, x1, y1))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def footprints(refs: Iterable[PatchRef]) -> dict[str, Footprint]:
    """Patch key -> footprint, for patches listed in an ``index.geojson`` beside them (in the
    image's folder or the one above, as ``data build-patches`` writes it)."""
    indexes: dict[Path, dict[Path, Footprint]] = {}
    out = {}
    for ref in refs:
        image = ref.image.resolve()
        for folder in (image.parent, image.parent.parent):
            index = folder / INDEX_GEOJSON
            if index not in indexes:
                indexes[index] = _index_footprints(index) if index.is_file() else {}
            if image in indexes[index]:
                out[ref.key] = indexes[index][image]
                break
    return out


def overlapping_pairs(refs: Sequence[PatchRef]) -> list[tuple[PatchRef, PatchRef]]:
    """Pairs of ``refs`` whose footprints share area (touching edges do not count)."""
    found = footprints(refs)
    keyed = [(r, found[r.key]) for r in refs if r.key in found]
    pairs = []
    by_crs: dict[str, list[tuple[PatchRef, tuple[float, float, float, float]]]] = {}
    for ref, (crs, box) in keyed:
        by_crs.setdefault(crs, []).append((ref, box))
    for members in by_crs.values():
        boxes = np.array([b for _, b in members])
        order = np.argsort(boxes[:, 0])
        for pos, i in enumerate(order):  # sweep along x: only boxes starting before i ends
            for j in order[pos + 1 :]:
                if boxes[j, 0] >= boxes[i, 2]:
                    break
                if boxes[j, 1] < boxes[i, 3] and boxes[i, 1] < boxes[j, 3]:
                    pairs.append((members[i][0], members[j][0]))
    return pairs


def duplicate_sets(refs: Sequence[PatchRef], hashes: Mapping[str, str]) -> list[list[PatchRef]]:
    """``refs`` as sets of identical images (singletons for the rest), in the order given."""
    first: dict[str, int] = {}
    sets: list[list[PatchRef]] = []
    for ref in refs:
        h = hashes.get(ref.key)
        if h is not None and h in first:
            sets[first[h]].append(ref)
            continue
        if h is not None:
            first[h] = len(sets)
        sets.append([ref])
    return sets


def connected_atoms(
    atoms: Sequence[Sequence[PatchRef]], pairs: Iterable[tuple[PatchRef, PatchRef]]
) -> list[list[int]]:
    """Indices of ``atoms`` joined by ``pairs`` (overlaps) into connected groups."""
    where = {r.key: i for i, atom in enumerate(atoms) for r in atom}
    parent = list(range(len(atoms)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(where[a.key]), root(where[b.key])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(atoms)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def leak_groups(
    refs: Sequence[PatchRef], hashes: Mapping[str, str] | None = None
) -> list[list[PatchRef]]:
    """``refs`` grouped so that identical and overlapping patches share a group."""
    atoms = duplicate_sets(refs, image_hashes(refs) if hashes is None else hashes)
    groups = connected_atoms(atoms, overlapping_pairs(refs))
    return [[r for a in group for r in atoms[a]] for group in groups]
