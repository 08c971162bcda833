"""A property-based fuzz of the OpenAPI schema (schemathesis): no input gives a 5xx.

Every operation is called with generated parameters and bodies, with and without the API key,
against the app over the monitored area (writes go to a copy, so the shared area is intact).
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.service.conftest import API_KEY, settings_for
from tests.service.pipeline_fixture import Fixture

from slidewatch.service.app import create_app

EXAMPLES = 15


@pytest.fixture(scope="module")
def fuzz_app(monitored: Fixture, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(monitored.home, home)
    db_url = f"sqlite:///{home / 'registry.db'}"
    app = create_app(
        settings_for(
            monitored, home=home, db_url=db_url, storage=str(home / "archive"), job_workers=1
        )
    )
    yield app
    app.state.service.close()


def test_no_server_errors(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:  # type: ignore[no-untyped-def]
            for headers in ({}, {"X-API-Key": API_KEY}):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.text[:200]}")

        call()
    assert failures == []


def test_schema_lists_every_route(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    paths = set(fuzz_app.openapi()["paths"])
    expected = {
        "/aois",
        "/aois/{name}",
        "/aois/{name}/runs",
        "/runs/{run_id}",
        "/runs/{run_id}/detections",
        "/runs/{run_id}/changes",
        "/alerts",
        "/tiles/{run_id}/{layer}/{z}/{x}/{y}.png",
        "/processes",
        "/processes/{process_id}",
        "/processes/{process_id}/execution",
        "/jobs",
        "/jobs/{job_id}",
        "/jobs/{job_id}/results",
        "/health",
        "/conformance",
    }
    assert expected <= paths
