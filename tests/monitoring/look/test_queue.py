"""Queued runs (run now): a row of their own until a look takes them; cancelled while queued."""

from __future__ import annotations

from pathlib import Path

from tests.monitoring.registry.test_registry import settings

from slidewatch.monitoring.look import MonitorConfig
from slidewatch.monitoring.look.queue import QUEUED_PREFIX, cancel_queued, queue_run, run_queued
from slidewatch.monitoring.registry import Registry


def test_a_queued_run_cancelled_before_a_look_takes_it(db_url: str, tmp_path: Path) -> None:
    with Registry(db_url) as registry:
        registry.add_aoi(settings())
        first, second = queue_run(registry, "chosica"), queue_run(registry, "chosica")
        assert first.state == "queued" and first.acquisition_key.startswith(QUEUED_PREFIX)
        assert first.acquisition_key != second.acquisition_key  # two requests, two rows
        assert cancel_queued(registry, first.id, "dismissed by the client")
        assert not cancel_queued(registry, first.id, "again")  # only a queued run
        assert registry.run(first.id).state == "skipped"
    config = MonitorConfig(db_url=db_url, storage=str(tmp_path / "archive"),
                           work_dir=str(tmp_path / "work"))  # fmt: skip
    (outcome,) = run_queued(config, first.id)  # nothing to do: no search, no look
    assert (outcome.state, outcome.reason) == ("skipped", "dismissed by the client")
