"""``/docs`` renders every operation in a real headless Chromium with every request that is
not to the test's 127.0.0.1 server refused: Swagger UI comes from the package, not a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.offline_browser import offline_chromium
from tests.service.conftest import LiveServer

from slidewatch.service.app import create_app
from slidewatch.service.labeling import LabelDatasets, label_app
from slidewatch.service.settings import ServiceSettings

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
METHODS = {"get", "put", "post", "delete", "patch"}


def _operations(schema: dict[str, Any]) -> int:
    """Operation blocks Swagger UI draws: one per operation and tag."""
    ops = [op for item in schema["paths"].values() for m, op in item.items() if m in METHODS]
    return sum(max(1, len(op.get("tags", []))) for op in ops)


def _render(chromium_path: str, server: LiveServer, docs: str, shot: str) -> dict[str, Any]:
    with offline_chromium(chromium_path, 1100, 900) as chromium:
        tab = chromium.open(server.url + docs)
        tab.wait_for_selector(".opblock", timeout=60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / shot))
        return {
            "operations": tab.locator(".opblock").count(),
            "title": tab.locator(".info .title").inner_text(),
            "errors": chromium.errors,
            "refused": chromium.refused,
        }


def test_the_api_docs_render_offline(chromium_path: str, tmp_path: Path) -> None:
    with LiveServer(create_app(ServiceSettings(home=tmp_path))) as server:
        page = httpx.get(server.url + "/docs").text
        assert "cdn." not in page and "/docs/swagger-ui/swagger-ui-bundle.js" in page
        schema = httpx.get(server.url + "/openapi.json").json()
        found = _render(chromium_path, server, "/docs", "api-docs.png")
    assert found["refused"] == [] and found["errors"] == []
    assert found["title"].startswith("slidewatch")
    assert found["operations"] == _operations(schema) > 10


def test_the_labeling_docs_render_offline(chromium_path: str, tmp_path: Path) -> None:
    app = label_app(LabelDatasets(lambda: {}))
    with LiveServer(app) as server:
        schema = httpx.get(server.url + "/label/openapi.json").json()
        found = _render(chromium_path, server, "/label/docs", "label-docs.png")
    assert found["refused"] == [] and found["errors"] == []
    assert found["operations"] == _operations(schema) > 3


@pytest.mark.parametrize("name", ["../../app.py", "swagger-ui.js.map", "VERSION"])
def test_only_the_listed_files_are_served(tmp_path: Path, name: str) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(ServiceSettings(home=tmp_path))) as client:
        assert "Apache License" in client.get("/docs/swagger-ui/LICENSE").text
        assert client.get("/docs/swagger-ui/swagger-ui.css").status_code == 200
        assert client.get(f"/docs/swagger-ui/{name}").status_code == 404
        assert client.get("/redoc").status_code == 404  # its page loaded a CDN too: gone
