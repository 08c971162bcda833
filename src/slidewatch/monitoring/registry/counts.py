"""How many landslides of a run are new, grown, unchanged, gone or unknown: one count for
``monitor history``, the API and the web map.

A run's change rows are per polygon, and one landslide may have several (two polygons of one
run both matched to the same known landslide), so counting rows and counting landslides
disagree. Here every landslide counts once, with the strongest kind among its rows
(:data:`PRECEDENCE`); rows without a landslide (none today) count once each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from slidewatch.monitoring.registry.tables import CHANGE_KINDS, Change

PRECEDENCE = ("new", "grown", "unchanged", "unknown", "gone")
"""Strongest first: a landslide seen both grown and unchanged (split in two) has grown."""
_RANK = {kind: i for i, kind in enumerate(PRECEDENCE)}


def _stronger(a: str, b: str) -> str:
    weakest = len(_RANK)
    return a if _RANK.get(a, weakest) <= _RANK.get(b, weakest) else b


def landslide_kinds(registry: Any, run_ids: Iterable[int]) -> dict[int, dict[Any, str]]:
    """``{run id: {landslide id: kind}}``; a row without a landslide is keyed by
    ``("row", change id)``. Runs without change rows (a baseline) map to ``{}``."""
    ids = sorted(set(run_ids))
    out: dict[int, dict[Any, str]] = {i: {} for i in ids}
    if not ids:
        return out
    query = select(Change.id, Change.run_id, Change.landslide_id, Change.kind).where(
        Change.run_id.in_(ids)
    )
    with registry.session() as s:
        for change_id, run_id, landslide_id, kind in s.execute(query):
            key = ("row", change_id) if landslide_id is None else landslide_id
            kinds = out[run_id]
            kinds[key] = _stronger(kind, kinds[key]) if key in kinds else kind
    return out


def run_counts(registry: Any, run_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{run id: {kind: landslides}}`` with every kind of
    :data:`~slidewatch.monitoring.registry.tables.CHANGE_KINDS` (zeros included)."""
    counts: dict[int, dict[str, int]] = {}
    for run_id, kinds in landslide_kinds(registry, run_ids).items():
        counts[run_id] = dict.fromkeys(CHANGE_KINDS, 0)
        for kind in kinds.values():
            counts[run_id][kind] = counts[run_id].get(kind, 0) + 1
    return counts


__all__ = ["PRECEDENCE", "landslide_kinds", "run_counts"]
