"""A run started from the API (queued, then run by a job through ``application.runs``)
delivers its alerts itself: nobody runs ``monitor run-once`` from a shell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.monitoring.conftest import example, receiver  # noqa: F401  (fixtures)
from tests.monitoring.model import SOURCE_BANDS

from slidewatch.application.runs import queue_run, run_queued
from slidewatch.application.settings import HomeSettings
from slidewatch.models.identity import model_hash
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.aois import AoiSettings
from slidewatch.monitoring.registry.tables import Delivery


def test_a_queued_run_delivers_its_alert_without_a_shell(
    tmp_path: Path,
    threshold_model: Path,
    example: Any,  # noqa: F811
    receiver: Any,  # noqa: F811
) -> None:
    url, handler = receiver  # answers 500 twice, then 200
    settings = HomeSettings(home=tmp_path / "home", webhook_allow_networks="127.0.0.0/8")
    source = {"stac_url": str(example.catalog), "bands": SOURCE_BANDS}
    with Registry(settings.layout.created().registry_url) as registry:
        registry.add_aoi(AoiSettings("chosica", example.aoi, str(threshold_model),
                                     model_hash(threshold_model), source, webhooks=(url,),
                                     min_new_area_m2=500.0))  # fmt: skip
        for day in (3, 9):
            run = queue_run(registry, "chosica")
            outcomes = run_queued(settings, run.id, datetime(2023, 3, day, tzinfo=UTC))
            assert [o.state for o in outcomes] == ["done"]
        with registry.session() as s:
            rows = s.query(Delivery).all()
            assert [(d.state, d.attempts, d.last_status) for d in rows] == [("delivered", 3, 200)]
    assert len(handler.received) == 1
    event, key = handler.received[0]
    assert event["type"] == "org.slidewatch.landslide.new" and key == event["id"]
