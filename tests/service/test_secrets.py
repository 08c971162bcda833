"""Secrets (webhook URLs with their tokens, e-mail recipients, a source's URL, the database
URL) never leave the server in full: every read route, anonymous and keyed, is scanned for
each of them; key holders see alert targets masked (``https://host/…``)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY, SMALL_AOI, make_model_dir

from slidewatch.redact import mask_email, mask_url, redact
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

HOOK = "https://hooks.example.org/hook?token=HOOKSECRET123"
EMAIL = "duty-officer-secret@example.org"
STAC = "https://stac.example.org/api/v1?token=STACSECRET456"
SECRETS = ("HOOKSECRET123", "duty-officer-secret", "STACSECRET456", "stac.example.org/api")
KEY = {"X-API-Key": API_KEY}


def test_masking_keeps_the_host_only() -> None:
    assert mask_url(HOOK) == "https://hooks.example.org/…"
    assert (
        mask_url("postgresql+psycopg://u:pw@db.local:5432/x") == "postgresql+psycopg://db.local/…"
    )
    assert mask_email(EMAIL) == "…@example.org"
    text = redact(f"search at {STAC} failed; mail {EMAIL}")
    assert not any(s in text for s in SECRETS) and "https://stac.example.org/…" in text
    assert (
        redact(f"webhook {mask_url(HOOK)}: refused")
        == "webhook https://hooks.example.org/…: refused"
    )
    assert redact(redact(text)) == text  # masking twice changes nothing


@pytest.fixture
def home(tmp_path: Path) -> tuple[ServiceSettings, dict[str, str]]:
    """A home with a secret-bearing source, an AOI with secret targets, a failed run and a
    failed job whose reasons quote the source's URL."""
    from slidewatch.application.runs import queue_run
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Run
    from slidewatch.service.job_files import write_inputs, write_status

    make_model_dir(tmp_path)
    source = {"kind": "stac", "stac_url": STAC, "collection": "sentinel-2-l2a"}
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY, sources={"default": source})
    feature = {"type": "Feature", "geometry": SMALL_AOI,
               "properties": {"name": "area", "model": "tiny", "webhooks": [HOOK],
                              "emails": [EMAIL]}}  # fmt: skip
    with TestClient(create_app(settings)) as c:
        created = c.post("/aois", json=feature, headers=KEY)
        assert created.status_code == 201, created.text
    with Registry(settings.layout.registry_url) as registry:
        run = queue_run(registry, "area")
        with registry.session() as s:
            row = s.get_one(Run, run.id)
            row.state, row.reason = "failed", f"SourceError: the STAC search at {STAC} failed"
    job = str(uuid.uuid4())
    folder = settings.layout.jobs_dir / job
    folder.mkdir(parents=True)
    write_inputs(folder, {"aoi": "area"})
    write_status(folder, jobID=job, processID="detect", status="failed", type="process",
                 message=f"SourceError: {STAC} answered 500")  # fmt: skip
    values = {"name": "area", "run_id": str(run.id), "job_id": job, "process_id": "detect"}
    return settings, {**values, "layer": "rgb", "z": "14", "x": "0", "y": "0"}


def _read_urls(app: Any, values: dict[str, str]) -> list[str]:
    """Every GET route the OpenAPI document lists, its parameters filled in, and the
    labeling page's (not in the document)."""
    urls = ["/label", "/label/api/datasets"]
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations:
            for name in re.findall(r"{(\w+)(?::path)?}", path):
                path = re.sub(rf"{{{name}(:path)?}}", values.get(name, "x"), path)
            urls.append(path)
    return urls


def test_no_read_route_shows_a_secret(home: tuple[ServiceSettings, dict[str, str]]) -> None:
    settings, values = home
    app = create_app(settings)
    scanned = 0
    with TestClient(app) as c:
        urls = [*_read_urls(app, values), "/alerts?aoi=area", "/openapi.json"]
        for url in urls:
            for headers in ({}, KEY):
                text = c.get(url, headers=headers).text
                leaked = [s for s in SECRETS if s in text]
                assert leaked == [], (url, headers, leaked)
                scanned += 1
        assert scanned >= 2 * 15
        anonymous = c.get("/aois/area").json()["properties"]
        assert "webhooks" not in anonymous and "emails" not in anonymous
        keyed = c.get("/aois/area", headers=KEY).json()["properties"]
        assert keyed["webhooks"] == ["https://hooks.example.org/…"]
        assert keyed["emails"] == ["…@example.org"]
        run = c.get(f"/runs/{values['run_id']}").json()
        assert "https://stac.example.org/…" in run["reason"]
        job = c.get(f"/jobs/{values['job_id']}").json()
        assert "https://stac.example.org/…" in job["message"]


def test_error_messages_are_masked(home: tuple[ServiceSettings, dict[str, str]]) -> None:
    settings, _ = home
    with TestClient(create_app(settings)) as c:
        response = c.patch("/aois/area", json={"webhooks": ["ftp://u:HOOKSECRET123@x.org/"]},
                           headers=KEY)  # fmt: skip
        assert response.status_code == 422
        assert "HOOKSECRET123" not in response.text
