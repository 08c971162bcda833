"""The confidence rules case by case (docs/monitoring.md): seen twice, unseen the second
time, seen then gone, merged, split, reviewed, rejected and regrown; which look raises
which alert, and which confidence an AOI sends."""

from __future__ import annotations

import pytest

from slidewatch.errors import ConfigError
from slidewatch.monitoring.confidence import (
    REGROWTH_FACTOR,
    AlertFilters,
    Attributes,
    Observation,
    Standing,
    event_for,
    first_standing,
    merged,
    observe,
    reviewed,
    sent,
    split_part,
)
from slidewatch.monitoring.kinds import AlertKind, AlertOn, ChangeKind, Confidence, Verdict

MIN = 1000.0
P, C, R = Confidence.POSSIBLE, Confidence.CONFIRMED, Confidence.REJECTED


def seen(kind: ChangeKind = ChangeKind.UNCHANGED, p: float = 0.8, area: float = 3000.0,
         changed: float = 0.0) -> Observation:  # fmt: skip
    return Observation(kind, p, area, changed)


def test_new_then_seen_twice_is_confirmed_with_one_alert_each_look() -> None:
    first = seen(ChangeKind.NEW, 0.7, 3000.0, 3000.0)
    s1 = first_standing(first)
    assert (s1.confidence, s1.looks, s1.max_probability, s1.baseline) == (P, 1, 0.7, False)
    assert event_for(None, s1, first, MIN) == AlertKind.NEW
    second = seen(p=0.9)
    s2 = observe(s1, second)
    assert (s2.confidence, s2.looks, s2.max_probability) == (C, 2, 0.9)
    assert event_for(s1, s2, second, MIN, announced=True) == AlertKind.CONFIRMED
    s3 = observe(s2, seen(p=0.6))  # a third look: still confirmed, no more alerts
    assert (s3.confidence, s3.looks, s3.max_probability) == (C, 3, 0.9)
    assert event_for(s2, s3, seen(p=0.6), MIN, announced=True) is None


def test_unseen_the_second_time_keeps_its_state() -> None:
    s1 = first_standing(seen(ChangeKind.NEW, changed=3000.0))
    hidden = Observation(ChangeKind.UNKNOWN, None, 3000.0, 0.0)
    assert observe(s1, hidden) == s1
    assert event_for(s1, s1, hidden, MIN, announced=True) is None
    s3 = observe(s1, seen())  # seen again later: confirmed then
    assert (s3.confidence, s3.looks) == (C, 2)


def test_seen_only_at_a_cloud_edge_is_no_look_until_seen_clearly() -> None:
    edge = Observation(ChangeKind.UNKNOWN, 0.7, 1500.0, 0.0)
    s0 = first_standing(edge)
    assert (s0.confidence, s0.looks) == (P, 0)
    assert event_for(None, s0, edge, MIN) is None
    clear = seen(ChangeKind.GROWN, area=3000.0, changed=1500.0)
    s1 = observe(s0, clear)
    assert (s1.confidence, s1.looks) == (P, 1)  # one clear look: still possible
    assert event_for(s0, s1, clear, MIN) == AlertKind.NEW  # what a responder hears first
    s2 = observe(s1, seen())
    assert (s2.confidence, event_for(s1, s2, seen(), MIN, True)) == (C, AlertKind.CONFIRMED)


def test_seen_then_gone_stays_possible() -> None:
    s1 = first_standing(seen(ChangeKind.NEW, changed=3000.0))
    gone = Observation(ChangeKind.GONE, None, 3000.0, 3000.0)
    assert observe(s1, gone) == s1
    assert event_for(s1, s1, gone, MIN, announced=True) is None


def test_merged_takes_the_strongest_evidence() -> None:
    survivor = Standing(P, 1, 0.6)
    absorbed = [Standing(C, 3, 0.9), Standing(P, 1, 0.5)]
    m = merged(survivor, absorbed)
    assert (m.confidence, m.looks, m.max_probability) == (C, 3, 0.9)
    after = observe(m, seen(p=0.7))
    assert (after.confidence, after.looks) == (C, 4)
    assert merged(survivor, []) == survivor
    rejected = merged(Standing(R, 2, 0.5, 1000.0), [Standing(C, 2, 0.6)])
    assert rejected.confidence == R  # a reviewer's "wrong" is not outvoted by a neighbour


def test_a_split_part_starts_with_its_parents_evidence() -> None:
    parent = Standing(P, 1, 0.8)
    part = observe(split_part(parent), seen(ChangeKind.SPLIT, 0.75))
    assert (part.confidence, part.looks) == (C, 2)


def test_baseline_landslides_are_confirmed_without_alert() -> None:
    base = first_standing(seen(ChangeKind.BASELINE))
    assert base.baseline and base.confidence == P
    assert event_for(None, base, seen(ChangeKind.BASELINE), MIN) is None
    again = observe(base, seen())
    assert again.confidence == C
    assert event_for(base, again, seen(), MIN) is None  # it was there before watching began
    grown = seen(ChangeKind.GROWN, changed=2000.0)
    assert event_for(base, observe(base, grown), grown, MIN) == AlertKind.GROWN


def test_small_changes_raise_nothing_until_they_are_news() -> None:
    small = seen(ChangeKind.NEW, area=500.0, changed=500.0)
    s1 = first_standing(small)
    assert event_for(None, s1, small, MIN) is None
    assert event_for(s1, observe(s1, seen(area=500.0)), seen(area=500.0), MIN) is None
    # seen again, now large enough: the first alert about it says "new", confirmed already
    bigger = seen(ChangeKind.GROWN, area=3000.0, changed=2500.0)
    s2 = observe(s1, bigger)
    assert (s2.confidence, event_for(s1, s2, bigger, MIN)) == (C, AlertKind.NEW)


def test_review_confirms_or_rejects_and_the_last_verdict_wins() -> None:
    s = Standing(P, 1, 0.7)
    rejected = reviewed(s, Verdict.REJECTED, 3000.0)
    assert (rejected.confidence, rejected.rejected_area_m2) == (R, 3000.0)
    confirmed = reviewed(rejected, Verdict.CONFIRMED, 3000.0)
    assert (confirmed.confidence, confirmed.rejected_area_m2) == (C, None)
    # confirmed by review: a later look raises no "confirmed" alert
    assert event_for(confirmed, observe(confirmed, seen()), seen(), MIN, True) is None


def test_rejected_is_never_alerted_again_unless_it_grows_past_the_factor() -> None:
    rejected = reviewed(Standing(C, 2, 0.7), Verdict.REJECTED, 3000.0)
    grown = seen(ChangeKind.GROWN, area=3000.0 * REGROWTH_FACTOR, changed=3000.0)
    after = observe(rejected, grown)
    assert after.confidence == R and after.looks == 3
    assert event_for(rejected, after, grown, MIN) is None
    bigger = seen(ChangeKind.GROWN, area=3000.0 * REGROWTH_FACTOR + 100, changed=3100.0)
    regrown = observe(rejected, bigger)
    assert (regrown.confidence, regrown.rejected_area_m2) == (P, None)
    assert event_for(rejected, regrown, bigger, MIN) == AlertKind.GROWN
    unchanged_but_big = seen(area=7000.0)  # grew over looks the rule never called "grown"
    assert event_for(rejected, observe(rejected, unchanged_but_big), unchanged_but_big,
                     MIN) == AlertKind.GROWN  # fmt: skip


@pytest.mark.parametrize(
    ("alert_on", "confidence", "expected"),
    [(AlertOn.POSSIBLE, P, True), (AlertOn.POSSIBLE, C, True), (AlertOn.CONFIRMED, P, False),
     (AlertOn.CONFIRMED, C, True), (AlertOn.POSSIBLE, R, False)],
)  # fmt: skip
def test_what_an_aoi_sends(alert_on: AlertOn, confidence: Confidence, expected: bool) -> None:
    assert sent(alert_on, confidence) is expected


def test_filters_are_off_by_default_and_pass_what_they_cannot_judge() -> None:
    flat = Attributes(mean_slope_deg=3.0, vegetation_change=-0.3, elevation_m=800.0)
    assert AlertFilters().passes(flat) and not AlertFilters().active
    steep = AlertFilters(min_slope_deg=10.0)
    assert not steep.passes(flat)
    assert steep.passes(Attributes(mean_slope_deg=25.0))
    assert steep.passes(Attributes())  # slope not measured: not hidden
    assert not AlertFilters(max_vegetation_change=-0.5).passes(flat)
    assert not AlertFilters(min_elevation_m=1000.0).passes(flat)
    assert not AlertFilters(max_elevation_m=500.0).passes(flat)
    assert AlertFilters.from_dict(steep.to_dict()) == steep
    with pytest.raises(ConfigError, match="unknown; valid: min_slope_deg"):
        AlertFilters.from_dict({"slope": 3})


def test_a_row_seen_only_at_an_edge_keeps_its_zero_looks() -> None:
    from types import SimpleNamespace

    from slidewatch.monitoring.registry.records import standing_of, store_standing

    row = SimpleNamespace(confidence="possible", looks=None, max_probability=None,
                          rejected_area_m2=None, baseline=False)  # fmt: skip
    store_standing(row, first_standing(Observation(ChangeKind.UNKNOWN, 0.7, 900.0, 0.0)))
    assert standing_of(row).looks == 0  # not read back as one look
