"""``POST``/``PATCH /aois`` refuse webhook targets inside the server's network, URLs with
credentials, other schemes, and more targets than the limit (issue 22's SSRF targets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.monitoring.alerts.test_targets import INTERNAL, MALFORMED
from tests.service.conftest import API_KEY, SMALL_AOI, make_model_dir

from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}


def _feature(name: str = "area", **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": SMALL_AOI,
            "properties": {"name": name, "model": "tiny", **props}}  # fmt: skip


def test_every_internal_or_malformed_target_is_refused(fresh: TestClient) -> None:
    refused = 0
    for url in INTERNAL + MALFORMED:
        response = fresh.post("/aois", json=_feature(webhooks=[url]), headers=KEY)
        assert response.status_code == 422, url
        assert "pass@" not in response.text
        refused += 1
    assert refused == len(INTERNAL) + len(MALFORMED)
    assert fresh.get("/aois").json()["features"] == []
    assert fresh.post("/aois", json=_feature(webhooks=["https://hooks.example.org/h"]),
                      headers=KEY).status_code == 201  # fmt: skip
    patched = fresh.patch("/aois/area", json={"webhooks": ["http://169.254.169.254/"]}, headers=KEY)
    assert patched.status_code == 422


def test_the_allow_list_opens_an_on_premise_network_and_the_count_is_capped(
    tmp_path: Path,
) -> None:
    make_model_dir(tmp_path)
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY, max_alert_targets=3,
                               webhook_allow_networks="127.0.0.0/8")  # fmt: skip
    with TestClient(create_app(settings)) as c:
        hooks = ["http://127.0.0.1:9/a", "http://127.0.0.2:9/b"]
        assert c.post("/aois", json=_feature(webhooks=hooks), headers=KEY).status_code == 201
        assert c.post("/aois", json=_feature("b", webhooks=["http://10.0.0.1/"]),
                      headers=KEY).status_code == 422  # fmt: skip
        many = _feature("c", webhooks=hooks, emails=["a@example.org", "b@example.org"])
        response = c.post("/aois", json=many, headers=KEY)
        assert response.status_code == 422 and "limit of 3" in response.json()["detail"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://0x7f000001/"])
def test_monitor_add_refuses_internal_targets(tmp_path: Path, url: str) -> None:
    from click.testing import CliRunner

    from slidewatch.cli import cli

    model = make_model_dir(tmp_path)
    aoi = "91.84,22.44,91.86,22.46"
    result = CliRunner().invoke(cli, ["monitor", "add", "x", "--aoi", aoi, "--model", str(model),
                                      "--home", str(tmp_path / "h"), "--webhook", url])  # fmt: skip
    assert result.exit_code != 0 and "Error:" in result.output and "loopback" in result.output
