"""due(): cadence, backoff after failures, re-checks after empty looks, paused AOIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slidewatch.monitoring.look.schedule import NOTHING_NEW, Look, due

NOW = datetime(2023, 3, 20, tzinfo=UTC)


def test_never_looked_and_paused() -> None:
    assert due(True, 5, [], NOW).due
    assert not due(False, 5, [], NOW).due
    assert due(False, 5, [], NOW).reason == "paused"


def test_cadence_counts_from_the_last_look() -> None:
    looks = [Look("done", NOW - timedelta(days=6)), Look("done", NOW - timedelta(days=4))]
    decision = due(True, 5, looks, NOW)
    assert not decision.due and decision.next_at == NOW + timedelta(days=1)
    assert due(True, 5, looks, NOW + timedelta(days=1)).due
    assert due(True, 3, looks, NOW).due


def test_failures_back_off_exponentially_up_to_the_cadence() -> None:
    last = NOW - timedelta(minutes=30)
    one = [Look("failed", last), Look("done", NOW - timedelta(days=9))]
    assert due(True, 5, one, NOW).next_at == last + timedelta(hours=1)
    three = [Look("failed", last - timedelta(hours=k)) for k in range(3)]
    assert due(True, 5, three, NOW).next_at == last + timedelta(hours=4)
    many = [Look("failed", last - timedelta(hours=k)) for k in range(20)]
    assert due(True, 5, many, NOW).next_at == last + timedelta(days=5)


def test_empty_look_rechecks_within_half_a_day_and_ignores_running() -> None:
    looks = [Look("skipped", NOW - timedelta(hours=13), NOTHING_NEW), Look("running", NOW)]
    assert due(True, 5, looks, NOW).due
    cloudy = [Look("skipped", NOW - timedelta(hours=13), "too cloudy: 90%")]
    assert not due(True, 5, cloudy, NOW).due
