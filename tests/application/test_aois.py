"""One AOI registration: ``monitor add`` and ``POST /aois`` store the same AOI (the model's
own bands, its hash, the same defaults), and both refuse a model they cannot read."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY, SMALL_AOI, write_model_files

from slidewatch.cli import cli
from slidewatch.monitoring.registry import Registry
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}
BBOX = "91.84,22.44,91.86,22.46"  # SMALL_AOI


def _stored(home: Path, name: str) -> dict[str, object]:
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        data = registry.get_aoi(name).to_dict()
    kept = set(data) - {"id", "created_at", "updated_at", "geometry"}
    return {k: data[k] for k in kept}


def test_cli_and_api_register_the_same_aoi(tmp_path: Path) -> None:
    model = write_model_files(tmp_path / "models" / "rgbn", ("B4", "B3", "B2", "B8"))
    cli_home, api_home = tmp_path / "cli", tmp_path / "api"
    result = CliRunner().invoke(cli, ["monitor", "add", "valley", "--aoi", BBOX, "--model",
                                      str(model), "--home", str(cli_home)])  # fmt: skip
    assert result.exit_code == 0, result.output
    settings = ServiceSettings(home=api_home, api_keys=API_KEY, models_dir=tmp_path / "models")
    feature = {"type": "Feature", "geometry": SMALL_AOI,
               "properties": {"name": "valley", "model": "rgbn"}}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        assert client.post("/aois", json=feature, headers=KEY).status_code == 201
    by_cli, by_api = _stored(cli_home, "valley"), _stored(api_home, "valley")
    assert by_cli == by_api
    assert by_cli["source"]["bands"] == "B4,B3,B2,B8"  # type: ignore[index]
    assert by_cli["cadence_days"] == 5.0 and by_cli["max_cloud_pct"] == 80.0


def test_an_unreadable_model_is_refused_by_both_edges(tmp_path: Path) -> None:
    model = tmp_path / "models" / "broken"
    model.mkdir(parents=True)
    (model / "model.json").write_text('{"architecture": "unet", "bands": ["B4", "B3", "B2"]}')
    (model / "model.safetensors").write_bytes(b"\0" * 64)
    result = CliRunner().invoke(cli, ["monitor", "add", "valley", "--aoi", BBOX, "--model",
                                      str(model), "--home", str(tmp_path / "cli")])  # fmt: skip
    assert result.exit_code == 2 and "malformed model description" in result.output
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY)
    feature = {"type": "Feature", "geometry": SMALL_AOI,
               "properties": {"name": "valley", "model": "broken"}}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        answer = client.post("/aois", json=feature, headers=KEY)
        assert answer.status_code == 422 and "malformed model description" in answer.text
        assert client.get("/aois/valley").status_code == 404
