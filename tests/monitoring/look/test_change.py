"""Change between two looks: pixel classes, identity by overlap, unknown where unseen."""

from __future__ import annotations

import numpy as np

from slidewatch.monitoring.kinds import GONE, NEW, NONE, PERSISTING, UNKNOWN
from slidewatch.monitoring.look.change import ChangeRecord, change_raster, match_landslides


def test_change_raster_classes() -> None:
    now = np.array([[1, 1, 0, 255, 0]], dtype=np.uint8)
    before = np.array([[0, 1, 1, 1, 255]], dtype=np.uint8)
    got = change_raster(now, before, buffer_px=0).tolist()
    assert got == [[NEW, PERSISTING, GONE, UNKNOWN, UNKNOWN]]
    assert change_raster(now, None).tolist() == [[NONE, NONE, NONE, UNKNOWN, NONE]]
    assert change_raster(now, before, buffer_px=1).tolist() == [[NEW, PERSISTING] + [UNKNOWN] * 3]


def _labels(shape: tuple[int, int], boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int32)
    for i, (r0, r1, c0, c1) in enumerate(boxes):
        out[r0:r1, c0:c1] = i + 1
    return out


def test_identity_growth_new_gone_and_unknown() -> None:
    shape = (40, 40)
    before = np.zeros(shape, dtype=np.uint8)
    now = np.zeros(shape, dtype=np.uint8)
    # known 0: grows from 4x4 to 4x8; known 1: unchanged; known 2: gone; known 3: under a cloud
    before[0:4, 0:4] = before[10:14, 10:14] = before[20:24, 0:4] = before[30:34, 30:34] = 1
    now[0:4, 0:8] = now[10:14, 10:14] = 1
    now[30:36, 28:36] = 255  # cloud now over known 3
    now[20:24, 20:26] = 1  # a new one, where both dates saw the ground
    now[0:3, 30:33] = 1  # a new one where the previous date was clouded
    before[0:3, 30:33] = 255
    known = _labels(shape, [(0, 4, 0, 4), (10, 14, 10, 14), (20, 24, 0, 4), (30, 34, 30, 34)])
    current = _labels(shape, [(0, 4, 0, 8), (10, 14, 10, 14), (20, 24, 20, 26), (0, 3, 30, 33)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [1600.0] * 4, [True] * 4, 100.0)
    got = {(r.kind, r.current, r.known, r.changed_area_m2) for r in records}
    assert got == {
        ("grown", 0, 0, 1600.0),
        ("unchanged", 1, 1, 0.0),
        ("new", 2, None, 2400.0),
        ("unknown", 3, None, 0.0),
        ("gone", None, 2, 1600.0),
        ("unknown", None, 3, 0.0),
    }


def test_only_landslides_of_the_previous_run_can_be_gone() -> None:
    shape = (10, 10)
    known = _labels(shape, [(0, 4, 0, 4)])
    change = change_raster(np.zeros(shape, np.uint8), np.zeros(shape, np.uint8))
    assert (
        match_landslides(change, np.zeros(shape, np.int32), known, [1600.0], [False], 100.0) == []
    )


def test_a_merge_keeps_the_larger_identity_and_names_the_merged_one() -> None:
    shape = (20, 30)
    before, now = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    before[2:8, 2:10] = before[2:6, 14:18] = 1  # known 0 (48 px), known 1 (16 px)
    now[2:8, 2:18] = 1  # one polygon over both, joined by new ground between them
    known = _labels(shape, [(2, 8, 2, 10), (2, 6, 14, 18)])
    current = _labels(shape, [(2, 8, 2, 18)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [4800.0, 1600.0], [True, True], 100.0)
    assert set(records) == {
        ChangeRecord("grown", 0, 0, 3200.0, merged_from=(1,)),
        ChangeRecord("merged", 0, 1, 0.0, merged_into=0),
    }


def test_a_landslide_under_cloud_does_not_merge_and_is_not_gone() -> None:
    shape = (20, 30)
    before, now = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    before[2:8, 2:10] = before[2:6, 14:18] = 1
    now[2:8, 2:15] = 1  # touches known 1's edge...
    now[0:10, 15:20] = 255  # ...whose ground is now under a cloud
    known = _labels(shape, [(2, 8, 2, 10), (2, 6, 14, 18)])
    current = _labels(shape, [(2, 8, 2, 15)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [4800.0, 1600.0], [True, True], 100.0)
    assert set(records) == {
        ChangeRecord("grown", 0, 0, 2600.0),
        ChangeRecord("unknown", None, 1, 0.0),
    }


def test_a_split_keeps_the_identity_on_the_largest_part() -> None:
    shape = (20, 30)
    before, now = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    before[2:8, 2:20] = 1  # known 0 (108 px)
    now[2:8, 2:12] = 1  # the largest part of the old outline (60 px)
    now[2:14, 14:20] = 1  # a smaller part of it (36 px) that grew by 36 px beyond it
    known = _labels(shape, [(2, 8, 2, 20)])
    current = _labels(shape, [(2, 8, 2, 12), (2, 14, 14, 20)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [10800.0], [True], 100.0)
    assert set(records) == {
        ChangeRecord("unchanged", 0, 0, 0.0),
        ChangeRecord("grown", 1, None, 3600.0, split_from=0),  # alerted as growth
    }


def test_a_split_part_without_new_ground_is_marked_split() -> None:
    shape = (10, 30)
    before, now = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    before[2:8, 2:20] = 1
    now[2:8, 2:12] = now[2:8, 14:20] = 1
    known = _labels(shape, [(2, 8, 2, 20)])
    current = _labels(shape, [(2, 8, 2, 12), (2, 8, 14, 20)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [10800.0], [True], 100.0)
    assert set(records) == {
        ChangeRecord("unchanged", 0, 0, 0.0),
        ChangeRecord("split", 1, None, 0.0, split_from=0),
    }


def test_touching_an_edge_is_neither_identity_nor_merge_nor_split() -> None:
    shape = (20, 40)
    before, now = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    before[2:8, 2:10] = before[2:8, 20:30] = 1  # known 0 (48 px) and known 1 (60 px)
    now[2:8, 2:14] = 1  # known 0, grown east by 4 columns
    now[2:8, 29:40] = 1  # a new slide east of known 1, which is gone
    known = _labels(shape, [(2, 8, 2, 10), (2, 8, 20, 30)])
    known[2:8, 13] = 2  # known 1's old outline reached into known 0's growth (noisy edges)
    current = _labels(shape, [(2, 8, 2, 14), (2, 8, 29, 40)])
    change = change_raster(now, before, buffer_px=0)
    records = match_landslides(change, current, known, [4800.0, 6000.0], [True, True], 100.0)
    assert set(records) == {
        ChangeRecord("grown", 0, 0, 2400.0),  # shares 6 px with known 1: 9 % of it, no merge
        ChangeRecord("new", 1, None, 6000.0),  # shares 6 of its 66 px with known 1: not it
        ChangeRecord("gone", None, 1, 5400.0),  # known 1 was seen and is no longer there
    }
