"""Train/validation splits: the paper's seeded random 80/20, the official splits, and split
files (JSON ``{"train": [keys...], "val": [keys...]}`` with keys ``source/id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from slidewatch.atomic import write_text_atomic
from slidewatch.data.layout import PatchRef
from slidewatch.errors import ConfigError, DatasetError


def random_split(
    refs: Sequence[PatchRef], val_fraction: float = 0.2, seed: int = 42
) -> tuple[list[PatchRef], list[PatchRef]]:
    """Seeded random (train, val) split; the same refs and seed always give the same split."""
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction {val_fraction} is outside [0, 1); use e.g. 0.2")
    ordered = sorted(refs, key=lambda r: r.key)  # independent of discovery order
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_val = round(val_fraction * len(ordered))
    if val_fraction > 0 and len(ordered) >= 2:
        n_val = min(max(n_val, 1), len(ordered) - 1)
    val_idx = set(order[:n_val].tolist())
    train = [r for i, r in enumerate(ordered) if i not in val_idx]
    val = [r for i, r in enumerate(ordered) if i in val_idx]
    return train, val


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
