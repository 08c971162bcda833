"""The labeling router inside ``slidewatch serve``: at /label, reads open, writes need a key."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY

from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings
from slidewatch.synthetic import make_l4s_dataset


def test_labeling_is_mounted_with_the_service_keys(tmp_path: Path) -> None:
    data = make_l4s_dataset(tmp_path / "gen", n=2, size=32, seed=3, with_masks=False).root
    settings = ServiceSettings(
        home=tmp_path / "home", api_keys=API_KEY, label_datasets={"peru": data}
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/label/api/datasets").json()["datasets"] == ["peru"]
        patches = client.get("/label/api/peru/patches").json()
        assert patches
        assert client.get("/label", params={"dataset": "peru"}).status_code == 200
        key = str((patches.get("patches") if isinstance(patches, dict) else patches)[0]["key"])
        skip = f"/label/api/peru/skip/{key}"
        assert client.post(skip, json={"base_version": 0}).status_code == 401
        wrong = client.post(skip, json={"base_version": 0}, headers={"X-API-Key": "no"})
        assert wrong.status_code == 403
        done = client.post(skip, json={"base_version": 0}, headers={"X-API-Key": API_KEY})
        assert done.status_code == 200, done.text
        assert client.get("/label/api/nowhere/patches").status_code == 404
