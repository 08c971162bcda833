"""The server tells a client nothing about its host: no login name on /label, library
versions on /health only to key holders; CORS lets a cross-origin label save (PUT) through."""

from __future__ import annotations

import getpass
from pathlib import Path

from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY

from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings
from slidewatch.synthetic import make_l4s_dataset


def test_label_page_does_not_show_the_login_name(tmp_path: Path) -> None:
    data = make_l4s_dataset(tmp_path / "gen", n=1, size=32, seed=3, with_masks=False).root
    settings = ServiceSettings(home=tmp_path / "home", label_datasets={"peru": data})
    login = getpass.getuser()
    with TestClient(create_app(settings)) as client:
        for url in ("/label", "/label?dataset=peru", "/label/api/datasets"):
            text = client.get(url).text
            assert f'"{login}"' not in text, url
        assert client.get("/label/api/datasets").json()["annotator"] == "anonymous"


def test_versions_only_to_key_holders(tmp_path: Path) -> None:
    with TestClient(create_app(ServiceSettings(home=tmp_path, api_keys=API_KEY))) as client:
        assert "versions" not in client.get("/health").json()
        assert "versions" not in client.get("/health", headers={"X-API-Key": "no"}).json()
        keyed = client.get("/health", headers={"X-API-Key": API_KEY}).json()
        assert set(keyed["versions"]) >= {"slidewatch", "python", "fastapi"}


def test_a_cross_origin_label_save_passes_its_preflight(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path, cors_origins="http://labels.example.org")
    headers = {"Origin": "http://labels.example.org", "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": "X-API-Key, Content-Type"}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        answer = client.options("/label/api/peru/mask/p1", headers=headers)
    assert answer.status_code == 200
    assert "PUT" in answer.headers["access-control-allow-methods"]
