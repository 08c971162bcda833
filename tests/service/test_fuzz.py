"""A property-based fuzz of the OpenAPI schema (schemathesis, every one of its checks): no
input gives a 5xx, and every answer is what the document says (statuses, media types, bodies,
headers, the key scheme, 405 with Allow).

Every operation is called with generated parameters and bodies, with and without the API key,
against the app over the monitored area (writes go to a copy, so the shared area is intact),
offline (ASGI, no socket). Schema-valid data may still break a domain rule (a self-intersecting
polygon, an AOI over the area limit): 413 and 422 are expected answers to it.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from tests.service.conftest import API_KEY, settings_for
from tests.service.pipeline_fixture import Fixture

from slidewatch.service.app import create_app

EXAMPLES = 10
POSITIVE = ["2xx", "3xx", 401, 403, 404, 409, 413, 422, 429]
"""What schema-valid data may be answered with (domain rules refuse some of it)."""


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


def test_every_check_passes(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    load_all_checks()
    checks = CHECKS.get_all()
    assert len(checks) >= 10  # not_a_server_error, status codes, media types, schemas, auth...
    config = SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE}}}
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    failures: list[str] = []
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal calls
            for headers in ({}, {"X-API-Key": API_KEY}):
                calls += 1
                try:
                    case.call_and_validate(headers=headers, checks=checks)
                except BaseException as exc:  # a FailureGroup of every check that failed
                    for failure in getattr(exc, "exceptions", [exc]):
                        failures.append(f"{case.operation.label}: {str(failure)[:300]}")

        call()
    assert failures == []
    assert calls >= 2 * len(operations)


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
