"""Change between two looks at the same ground: pure functions over rasters and labels.

Pixels are compared only where both dates saw the ground: 255 (cannot see) in either date
makes a pixel *unknown*, never *gone*. Landslides are matched by overlap with the known
landslides of the AOI (their last outline), so a landslide keeps its identity across runs,
even across a run in which a cloud hid it.

Change raster classes (:mod:`slidewatch.monitoring.kinds`): 0 no landslide in either date,
1 new (landslide now, not before), 2 persisting, 3 gone (landslide before, not now),
255 unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slidewatch.monitoring.kinds import GONE, NEW, NONE, PERSISTING, UNKNOWN, ChangeKind

GROWTH_MIN_FRACTION = 0.1
"""A matched landslide is *grown* when its new area reaches this fraction of its old area
(smaller differences are outline noise between two dates)..."""
GROWTH_MIN_M2 = 200.0
"""... and at least this many m² (two 10 m pixels are not growth)."""
UNSEEN_BUFFER_PX = 5
"""The edge rule's distance: pixels this close to one that either date could not see (cloud,
shadow, no data, the AOI's edge) are *unknown*, never new or grown. Measured
(``bench/edge_distance.py``, docs/monitoring.md): an unseen block changes the model's
probabilities by ≥ 0.05 (99th percentile) up to 3 px from its edge and flips decisions in
regions large enough for a polygon up to 1 px, on the synthetic area and on real Sentinel-2
tiles; the cloud mask adds its own edge error, SCL's 20 m pixel (2 px). 3 + 2 = 5 px."""
EDGE_MAX_FRACTION = 0.5
"""A polygon with more than this fraction of its pixels in the unknown zone is *unknown*,
not new or grown: a sliver along a cloud's edge is the edge, not a landslide."""
UNSEEN_MAX_FRACTION = 0.05
"""A landslide not found again is *gone* only if at most this fraction of it was unseen."""
SHARED_MIN_FRACTION = 0.25
"""A polygon and a known landslide's last outline overlap only if they share at least this
fraction of the smaller of the two: touching at an edge (outlines differ by a pixel or two
between dates) gives neither identity, nor a merge, nor a split. A known landslide merges
into a polygon only if the polygon covers at least this fraction of it."""


@dataclass(frozen=True)
class ChangeRecord:
    """One landslide's change: ``current`` indexes the current polygons (None when gone or
    unknown), ``known`` indexes the known landslides (None when new, first seen or split).

    Merges and splits: the polygon that covers several known landslides keeps the identity
    of the one it overlaps most and lists the others in ``merged_from``; each of those gets
    a ``merged`` record (its ``current`` is that polygon) with ``merged_into``. When one
    known landslide is now several polygons, the part that overlaps it most keeps its
    identity; the others are new identities with ``split_from``."""

    kind: ChangeKind
    current: int | None
    known: int | None
    changed_area_m2: float
    merged_from: tuple[int, ...] = ()
    merged_into: int | None = None
    split_from: int | None = None


def unseen(raster: np.ndarray, buffer_px: int = UNSEEN_BUFFER_PX) -> np.ndarray:
    """Pixels at 255 (cannot see), grown by ``buffer_px``."""
    from scipy.ndimage import binary_dilation

    mask = raster == 255
    if not buffer_px or not mask.any():
        return mask
    square = np.ones((2 * buffer_px + 1, 2 * buffer_px + 1), dtype=bool)  # one pass
    return np.asarray(binary_dilation(mask, structure=square))


def change_raster(
    current: np.ndarray, previous: np.ndarray | None, buffer_px: int = UNSEEN_BUFFER_PX
) -> np.ndarray:
    """Per-pixel change classes (see the module doc) of two 0/1/255 landslide rasters;
    unseen pixels of either date, grown by ``buffer_px``, are unknown."""
    if previous is None:  # the baseline: nothing is compared, so no buffer is needed
        return np.where(current == 255, UNKNOWN, NONE).astype(np.uint8)
    if previous.shape != current.shape:
        raise ValueError(f"rasters differ in shape: {previous.shape} vs {current.shape}")
    out = np.full(current.shape, NONE, dtype=np.uint8)
    out[(current == 1) & (previous == 0)] = NEW
    out[(current == 1) & (previous == 1)] = PERSISTING
    out[(current == 0) & (previous == 1)] = GONE
    out[unseen(current, buffer_px) | unseen(previous, buffer_px)] = UNKNOWN
    return out


def _overlaps(cur_labels: np.ndarray, known_labels: np.ndarray) -> dict[int, dict[int, int]]:
    """``{current index: {known index: shared pixels}}`` (labels are index + 1, 0 = none)."""
    both = (cur_labels > 0) & (known_labels > 0)
    pairs, counts = np.unique(
        np.stack([cur_labels[both], known_labels[both]]), axis=1, return_counts=True
    )
    out: dict[int, dict[int, int]] = {}
    for (c, k), n in zip(pairs.T.tolist(), counts.tolist(), strict=True):
        out.setdefault(c - 1, {})[k - 1] = n
    return out


def _kind_of_current(new_m2: float, known_area_m2: float | None) -> ChangeKind:
    if known_area_m2 is None:
        return ChangeKind.NEW if new_m2 > 0 else ChangeKind.UNKNOWN
    grown = new_m2 >= max(GROWTH_MIN_M2, GROWTH_MIN_FRACTION * known_area_m2)
    return ChangeKind.GROWN if grown else ChangeKind.UNCHANGED


def _largest(overlap: dict[int, int]) -> int:
    """The key of the largest overlap (ties: the lowest index, so results are stable)."""
    return max(overlap, key=lambda k: (overlap[k], -k))


def _claimants(overlaps: dict[int, dict[int, int]]) -> dict[int, int]:
    """``{known: current}``: each known landslide goes to the polygon overlapping it most
    (after a split, the largest part keeps the identity)."""
    by_known: dict[int, dict[int, int]] = {}
    for c, knowns in overlaps.items():
        for k, n in knowns.items():
            by_known.setdefault(k, {})[c] = n
    return {k: _largest(currents) for k, currents in by_known.items()}


def _unseen_fraction(change: np.ndarray, known_labels: np.ndarray, k: int) -> float:
    inside = known_labels == k + 1
    return float(np.count_nonzero(change[inside] == UNKNOWN)) / max(1, int(inside.sum()))


def match_landslides(
    change: np.ndarray,
    cur_labels: np.ndarray,
    known_labels: np.ndarray,
    known_areas_m2: Sequence[float],
    seen_before: Sequence[bool],
    pixel_m2: float,
) -> list[ChangeRecord]:
    """Match current polygons to known landslides and say how each changed.

    ``cur_labels``/``known_labels``: rasters of polygon index + 1 (0 = none) on the grid of
    ``change``. ``seen_before[k]``: known landslide ``k`` was detected by the previous run
    (only those can be *gone*). Identities follow :class:`ChangeRecord`; new area counts
    pixels of class NEW only. A known landslide is *gone* or *merged* only where its ground
    was seen (at most ``UNSEEN_MAX_FRACTION`` unknown); otherwise it is *unknown* and keeps
    its identity and outline.
    """
    n_current = int(cur_labels.max(initial=0))
    known_px = np.bincount(known_labels.ravel(), minlength=len(seen_before) + 1)[1:]
    cur_px = np.bincount(cur_labels.ravel(), minlength=n_current + 1)[1:]
    overlaps = {
        i: shared
        for i, pairs in _overlaps(cur_labels, known_labels).items()
        if (shared := {k: n for k, n in pairs.items()
                       if n >= SHARED_MIN_FRACTION * min(known_px[k], cur_px[i])})
    }  # fmt: skip
    claimant = _claimants(overlaps)
    new_px = np.bincount(cur_labels[change == NEW], minlength=n_current + 1)[1:]
    edge_px = np.bincount(cur_labels[change == UNKNOWN], minlength=n_current + 1)[1:]
    at_edge = edge_px > EDGE_MAX_FRACTION * np.maximum(cur_px, 1)
    records: list[ChangeRecord] = []
    for i in range(n_current):
        new_m2 = 0.0 if at_edge[i] else float(new_px[i]) * pixel_m2
        mine = {k: n for k, n in overlaps.get(i, {}).items() if claimant[k] == i}
        parent = _largest(overlaps[i]) if i in overlaps else None
        if mine:
            merged = [
                k for k, n in mine.items()
                if n >= SHARED_MIN_FRACTION * known_px[k]
                and _unseen_fraction(change, known_labels, k) <= UNSEEN_MAX_FRACTION
            ]  # fmt: skip
            records += _kept(i, mine, merged, new_m2, known_areas_m2)
        elif parent is not None:  # old ground whose landslide went to a larger part: a split
            kind = _kind_of_current(new_m2, float(known_areas_m2[parent]))
            kind = ChangeKind.GROWN if kind == ChangeKind.GROWN else ChangeKind.SPLIT
            records.append(ChangeRecord(kind, i, None, new_m2, split_from=parent))
        else:
            records.append(ChangeRecord(_kind_of_current(new_m2, None), i, None, new_m2))
    settled = {r.known for r in records if r.current is not None and r.known is not None}
    for k, seen in enumerate(seen_before):
        if not seen or k in settled:
            continue
        unseen = _unseen_fraction(change, known_labels, k) > UNSEEN_MAX_FRACTION
        lost = float(np.count_nonzero(change[known_labels == k + 1] == GONE)) * pixel_m2
        kind = ChangeKind.UNKNOWN if unseen else ChangeKind.GONE
        records.append(ChangeRecord(kind, None, k, lost))
    return records


def _kept(
    i: int, mine: dict[int, int], merged: list[int], new_m2: float,
    known_areas_m2: Sequence[float],
) -> list[ChangeRecord]:  # fmt: skip
    """Polygon ``i`` keeps the identity it overlaps most among those it received (``mine``);
    ``merged``: the others that merge into it (seen, and covered enough)."""
    keep = _largest(mine)
    merged = sorted(k for k in merged if k != keep)
    area = sum(float(known_areas_m2[k]) for k in [keep, *merged])
    kind = _kind_of_current(new_m2, area)
    out = [ChangeRecord(kind, i, keep, new_m2, merged_from=tuple(merged))]
    return out + [ChangeRecord(ChangeKind.MERGED, i, k, 0.0, merged_into=keep) for k in merged]


def label_raster(
    geometries: Sequence[dict[str, Any]], crs: Any, transform: Any, shape: tuple[int, int]
) -> np.ndarray:
    """Rasterise lon/lat GeoJSON geometries onto a grid: pixel = index + 1 (0 = none);
    where polygons overlap, the later one wins."""
    from rasterio.features import rasterize
    from rasterio.warp import transform_geom

    if not geometries:
        return np.zeros(shape, dtype=np.int32)
    projected = transform_geom("EPSG:4326", crs, list(geometries))
    return rasterize(
        ((g, i + 1) for i, g in enumerate(projected)),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="int32",
    )
