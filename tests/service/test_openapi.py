"""The OpenAPI document says what the service does: errors documented as problem+json, reads
without a key scheme while they are open, GeoJSON media types, 405 with Allow."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY

from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings


def _document(tmp_path: Path, **extra: object) -> dict:  # type: ignore[type-arg]
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY, **extra)  # type: ignore[arg-type]
    return create_app(settings).openapi()


def test_errors_are_documented_as_problems(tmp_path: Path) -> None:
    paths = _document(tmp_path)["paths"]
    problem = {"$ref": "#/components/schemas/Problem"}
    post = paths["/aois"]["post"]["responses"]
    for status in ("401", "403", "409", "413", "422"):
        assert post[status]["content"]["application/problem+json"]["schema"] == problem
    assert "404" in paths["/aois/{name}"]["get"]["responses"]
    assert "429" in paths["/tiles/{run_id}/{layer}/{z}/{x}/{y}.png"]["get"]["responses"]
    text = str(paths)
    assert "HTTPValidationError" not in text
    detections = paths["/runs/{run_id}/detections"]["get"]["responses"]["200"]["content"]
    assert list(detections) == ["application/geo+json"]


def test_reads_declare_the_key_only_when_they_need_it(tmp_path: Path) -> None:
    open_paths = _document(tmp_path / "a")["paths"]
    assert "security" not in open_paths["/aois"]["get"]
    assert "security" in open_paths["/aois"]["post"]
    closed = _document(tmp_path / "b", read_requires_key=True)["paths"]
    assert "security" in closed["/aois"]["get"] and "401" in closed["/aois"]["get"]["responses"]


def test_an_unsupported_method_is_405_with_allow(tmp_path: Path) -> None:
    with TestClient(create_app(ServiceSettings(home=tmp_path))) as client:
        answer = client.request("TRACE", "/health")
        assert answer.status_code == 405 and "GET" in answer.headers["allow"]
        assert answer.headers["content-type"] == "application/problem+json"
        invalid = client.get("/runs/x")
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
