"""Train/validation splits: the paper's seeded random 80/20, the official splits, and split
files (JSON ``{"train": [keys...], "val": [keys...]}`` with keys ``source/id``).

The random split (:func:`split_apart`) never puts an exact duplicate or an overlapping
patch of a validation patch into training (:mod:`slidewatch.data.leakage`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slidewatch.atomic import write_text_atomic
from slidewatch.data.layout import PatchRef
from slidewatch.data.leakage import (
    Footprint,
    connected_atoms,
    duplicate_sets,
    footprints,
    image_hashes,
    overlapping_pairs,
)
from slidewatch.errors import ConfigError, DatasetError


@dataclass(frozen=True)
class SplitParts:
    """A random split: training, validation, and the buffer left out of both."""

    train: list[PatchRef]
    val: list[PatchRef]
    buffer: list[PatchRef]
    """Training patches left out because they overlap a validation patch (only when a group
    of overlapping patches had to be cut, e.g. one scene cut with a stride below the size)."""

    def as_dict(self) -> dict[str, list[PatchRef]]:
        """``{"train", "val"}`` (and ``"buffer"`` when not empty), as ``split.json`` holds it."""
        parts = {"train": self.train, "val": self.val}
        return {**parts, "buffer": self.buffer} if self.buffer else parts


def _val_count(val_fraction: float, n: int) -> int:
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction {val_fraction} is outside [0, 1); use e.g. 0.2")
    n_val = round(val_fraction * n)
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    return n_val


def split_apart(
    refs: Sequence[PatchRef],
    val_fraction: float = 0.2,
    seed: int = 42,
    hashes: Mapping[str, str] | None = None,
) -> SplitParts:
    """Seeded random split that keeps identical images (``hashes``: key -> image hash, default
    computed) and overlapping patches (``index.geojson`` bounds) on one side.

    Groups of them are drawn whole in a seeded order until validation holds its share. When
    a group is too large to place (every patch of a scene cut with overlap is one group), it
    is cut: the validation patches are the ones nearest a seeded patch of it, and its
    patches overlapping them are left out of training (:attr:`SplitParts.buffer`). Without
    such groups this is the plain seeded 80/20 of earlier versions, patch for patch.
    """
    ordered = sorted(refs, key=lambda r: r.key)  # independent of discovery order
    n_val = _val_count(val_fraction, len(ordered))
    atoms = duplicate_sets(ordered, image_hashes(ordered) if hashes is None else hashes)
    found = footprints(ordered)
    components = connected_atoms(atoms, overlapping_pairs(ordered))
    rng = np.random.default_rng(seed)
    val: set[int] = set()
    size = [len(a) for a in atoms]
    for i in rng.permutation(len(components)).tolist():
        taken = sum(size[a] for a in val)
        if taken >= n_val:
            break
        if taken + sum(size[a] for a in components[i]) < len(ordered):
            val.update(components[i])
    buffer: set[int] = set()
    if sum(size[a] for a in val) < n_val:
        rest = [c for c in components if not val & set(c) and len(c) > 1]
        if rest:
            val, buffer = _cut(max(rest, key=len), atoms, found, val, n_val, rng)
    if n_val and not val:
        raise DatasetError(
            f"all {len(ordered)} patches are copies of one another; no split can keep "
            "validation apart from training: add patches from elsewhere"
        )
    pick = {r.key for a in val for r in atoms[a]}
    left = {r.key for a in buffer for r in atoms[a]}
    return SplitParts(
        [r for r in ordered if r.key not in pick | left],
        [r for r in ordered if r.key in pick],
        [r for r in ordered if r.key in left],
    )


def _cut(
    component: Sequence[int],
    atoms: Sequence[Sequence[PatchRef]],
    found: Mapping[str, Footprint],
    val: set[int],
    n_val: int,
    rng: np.random.Generator,
) -> tuple[set[int], set[int]]:
    """Validation grown from a seeded atom of ``component`` by distance; its overlapping
    neighbours in the component become the buffer."""
    centre = {}
    for a in component:
        x0, y0, x1, y1 = next(found[r.key][1] for r in atoms[a] if r.key in found)
        centre[a] = ((x0 + x1) / 2, (y0 + y1) / 2)
    anchor = centre[component[int(rng.integers(len(component)))]]
    nearest = sorted(component, key=lambda a: (centre[a][0] - anchor[0]) ** 2
                     + (centre[a][1] - anchor[1]) ** 2)  # fmt: skip
    val = set(val)
    for a in nearest[:-1]:  # leave something to train on
        if sum(len(atoms[v]) for v in val) >= n_val:
            break
        val.add(a)
    taken = [found[r.key][1] for a in val for r in atoms[a] if r.key in found]
    buffer = {
        a for a in component if a not in val and any(
            _overlap(found[r.key][1], box) for r in atoms[a] if r.key in found for box in taken)
    }  # fmt: skip
    return val, buffer


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def random_split(
    refs: Sequence[PatchRef],
    val_fraction: float = 0.2,
    seed: int = 42,
    hashes: Mapping[str, str] | None = None,
) -> tuple[list[PatchRef], list[PatchRef]]:
    """(train, val) of :func:`split_apart` (the buffer, if any, in neither)."""
    parts = split_apart(refs, val_fraction, seed, hashes)
    return parts.train, parts.val


def official_split(refs: Sequence[PatchRef], split: str) -> list[PatchRef]:
    """The refs of an official split (``train``, ``val`` or ``test``)."""
    chosen = [r for r in refs if r.split == split]
    if not chosen:
        present = sorted({r.split for r in refs if r.split}) or ["none"]
        raise DatasetError(
            f"no patches in split {split!r}; splits present: {', '.join(present)} "
            "(flat folders have no official split: use a random split)"
        )
    return chosen


def write_split(path: Path, splits: Mapping[str, Sequence[PatchRef]]) -> Path:
    """Write ``{split name: [keys]}`` as JSON atomically; returns ``path``."""
    return write_json(Path(path), {name: [r.key for r in refs] for name, refs in splits.items()})


def write_json(path: Path, payload: object) -> Path:
    """Write ``payload`` as indented JSON atomically; returns ``path``."""
    return write_text_atomic(Path(path), json.dumps(payload, indent=1))


def read_split(path: Path, refs: Sequence[PatchRef]) -> dict[str, list[PatchRef]]:
    """Read a split file and map its keys back to ``refs``; unknown keys are an error."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: split file not found; write one with 'data split'") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable JSON split file ({exc}); rewrite it") from None
    if not isinstance(payload, dict) or not all(isinstance(v, list) for v in payload.values()):
        raise DatasetError(f"{path}: expected {{split: [keys]}}; rewrite it with 'data split'")
    by_key = {r.key: r for r in refs}
    legacy = [r.legacy_key for r in refs]
    for r in refs:  # split files before 0.2 named patches source/id; unambiguous ones still map
        if legacy.count(r.legacy_key) == 1:
            by_key.setdefault(r.legacy_key, r)
    out: dict[str, list[PatchRef]] = {}
    for name, keys in payload.items():
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise DatasetError(
                f"{path}: split {name!r} names {len(missing)} patches not in the datasets "
                f"given (e.g. {missing[0]!r}); pass the same dataset folders as when it was written"
            )
        out[name] = [by_key[k] for k in keys]
    return out
