"""``POST /aois`` fetches the model's own bands, as ``monitor add`` does, and refuses a model
that needs B10 from an L2A collection (which has none) with 422, not at the first run."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY, SMALL_AOI, write_model_files

from slidewatch.bands import BAND_NAMES
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}


def model(root: Path, name: str, bands: list[str]) -> None:
    write_model_files(root / "models" / name, tuple(bands))


def feature(name: str, model_name: str) -> dict[str, object]:
    return {"type": "Feature", "geometry": SMALL_AOI,
            "properties": {"name": name, "model": model_name, "source": "l2a"}}  # fmt: skip


def test_post_aoi_takes_the_models_bands_and_refuses_b10_from_l2a(tmp_path: Path) -> None:
    model(tmp_path, "rgbn", ["B4", "B3", "B2", "B8"])
    model(tmp_path, "all14", list(BAND_NAMES))
    sources = {"l2a": {"collection": "sentinel-2-l2a"}}
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY, sources=sources)
    with TestClient(create_app(settings)) as client:
        refused = client.post("/aois", json=feature("needs-b10", "all14"), headers=KEY)
        assert refused.status_code == 422
        assert "B10" in refused.text and "L2A" in refused.text
        assert client.get("/aois/needs-b10").status_code == 404  # nothing stored
        created = client.post("/aois", json=feature("four", "rgbn"), headers=KEY)
        assert created.status_code == 201
    from slidewatch.monitoring.registry import Registry

    with Registry(f"sqlite:///{tmp_path / 'registry.db'}") as registry:
        stored = {a.name: a.source for a in registry.list_aois()}
    assert stored["four"]["bands"] == "B4,B3,B2,B8"
    assert stored["four"]["collection"] == "sentinel-2-l2a"
