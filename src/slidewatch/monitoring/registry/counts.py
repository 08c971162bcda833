"""How many landslides of a run are new, grown, unchanged, gone or unknown: the one count,
used when a run is recorded (its stats and STAC item) and by ``monitor history``, the API
and the web map.

A run's change rows are per polygon, and one landslide could have several (two polygons of
one run both matched to the same known landslide), so counting rows and counting
landslides could disagree. Here every landslide counts once, with the strongest kind among
its rows (:data:`PRECEDENCE`); rows without a landslide (none today) count once each.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from sqlalchemy import select

from slidewatch.monitoring.kinds import COUNTED_KINDS, ChangeKind
from slidewatch.monitoring.registry.tables import Change

PRECEDENCE = (ChangeKind.NEW, ChangeKind.GROWN, ChangeKind.UNCHANGED, ChangeKind.UNKNOWN,
              ChangeKind.GONE)  # fmt: skip
"""Strongest first: a landslide seen both grown and unchanged (split in two) has grown."""
_RANK = {kind: i for i, kind in enumerate(PRECEDENCE)}


def _stronger(a: ChangeKind, b: ChangeKind) -> ChangeKind:
    weakest = len(_RANK)
    return a if _RANK.get(a, weakest) <= _RANK.get(b, weakest) else b


def strongest_kinds(rows: Iterable[tuple[Hashable, ChangeKind]]) -> dict[Hashable, ChangeKind]:
    """``{landslide: kind}`` of ``(landslide, kind)`` rows: each landslide's strongest kind,
    landslides in the order they first appear."""
    kinds: dict[Hashable, ChangeKind] = {}
    for key, kind in rows:
        kinds[key] = _stronger(kind, kinds[key]) if key in kinds else kind
    return kinds


def count_kinds(rows: Iterable[tuple[Hashable, ChangeKind]]) -> dict[ChangeKind, int]:
    """Landslides per kind of ``(landslide, kind)`` rows, each landslide once with its
    strongest kind; only kinds that occur, in the order they first occur."""
    counts: dict[ChangeKind, int] = {}
    for kind in strongest_kinds(rows).values():
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def landslide_kinds(registry: Any, run_ids: Iterable[int]) -> dict[int, dict[Any, ChangeKind]]:
    """``{run id: {landslide id: kind}}``; a row without a landslide is keyed by
    ``("row", change id)``. Runs without change rows (a baseline) map to ``{}``."""
    ids = sorted(set(run_ids))
    rows: dict[int, list[tuple[Hashable, ChangeKind]]] = {i: [] for i in ids}
    if ids:
        query = select(Change.id, Change.run_id, Change.landslide_id, Change.kind).where(
            Change.run_id.in_(ids)
        )
        with registry.session() as s:
            for change_id, run_id, landslide_id, kind in s.execute(query):
                rows[run_id].append((("row", change_id) if landslide_id is None else landslide_id,
                                     kind))  # fmt: skip
    return {run_id: strongest_kinds(run_rows) for run_id, run_rows in rows.items()}


def run_counts(registry: Any, run_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{run id: {kind: landslides}}`` with every kind of
    :data:`~slidewatch.monitoring.kinds.COUNTED_KINDS` (zeros included), then any other
    kind that occurs (``merged``, ``split``)."""
    out: dict[int, dict[str, int]] = {}
    for run_id, kinds in landslide_kinds(registry, run_ids).items():
        out[run_id] = dict.fromkeys(COUNTED_KINDS, 0)
        for kind, n in count_kinds(kinds.items()).items():
            out[run_id][kind] = n
    return out


__all__ = ["PRECEDENCE", "count_kinds", "landslide_kinds", "run_counts", "strongest_kinds"]
