"""One AOI area limit and one antimeridian explanation, from acquisition, for the API and
the CLI alike (issue 22: the API accepted 50,000 km² that every look then refused, and
explained an antimeridian AOI as "bounding box of 36.0 deg²")."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY, make_model_dir

from slidewatch.acquisition.aoi import DEFAULT_MAX_AREA_KM2, MAX_AREA_ENV
from slidewatch.cli import cli
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

KEY = {"X-API-Key": API_KEY}
BIG = [[[10, 40], [11.3, 40], [11.3, 41], [10, 41], [10, 40]]]  # ~12,000 km²
ACROSS = [[[179.5, 0], [-179.5, 0], [-179.5, 1], [179.5, 1], [179.5, 0]]]


def _post(client: TestClient, rings: list, name: str = "area") -> tuple[int, str]:  # type: ignore[type-arg]
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
               "properties": {"name": name, "model": "tiny"}}  # fmt: skip
    response = client.post("/aois", json=feature, headers=KEY)
    return response.status_code, str(response.json().get("detail", ""))


def _cli_error(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2 and "Traceback" not in result.output
    return result.output


def test_the_api_and_the_cli_share_the_area_limit_and_its_message(tmp_path: Path) -> None:
    make_model_dir(tmp_path)
    assert DEFAULT_MAX_AREA_KM2 == 10_000
    with TestClient(create_app(ServiceSettings(home=tmp_path, api_keys=API_KEY))) as c:
        status, detail = _post(c, BIG)
    assert status == 413
    assert "larger than the limit of 10,000 km²" in detail and MAX_AREA_ENV in detail
    out = _cli_error("fetch", "--aoi", "10,40,11.3,41", "--start", "2024-01-01",
                     "--end", "2024-02-01", str(tmp_path / "s.tif"))  # fmt: skip
    assert "larger than the limit of 10,000 km²" in out and MAX_AREA_ENV in out
    raised = ServiceSettings(home=tmp_path, api_keys=API_KEY, max_aoi_km2=20_000)
    with TestClient(create_app(raised)) as c:
        assert _post(c, BIG)[0] == 201


def test_the_setting_is_read_once_for_every_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_AREA_ENV, "5")
    make_model_dir(tmp_path)
    with TestClient(create_app(ServiceSettings(home=tmp_path, api_keys=API_KEY))) as c:
        status, detail = _post(c, [[[91.8, 22.4], [91.9, 22.4], [91.9, 22.5], [91.8, 22.4]]])
    assert status == 413 and "limit of 5 km²" in detail
    out = _cli_error("monitor", "add", "x", "--aoi", "91.8,22.4,91.9,22.5", "--model",
                     str(tmp_path / "models" / "tiny"), "--home", str(tmp_path / "h"))  # fmt: skip
    assert "limit of 5 km²" in out


def test_an_antimeridian_aoi_gets_one_explanation(tmp_path: Path) -> None:
    make_model_dir(tmp_path)
    with TestClient(create_app(ServiceSettings(home=tmp_path, api_keys=API_KEY))) as c:
        status, detail = _post(c, ACROSS)
    assert status == 422 and "deg²" not in detail
    sentence = "crosses the antimeridian (180° of longitude), which one UTM grid cannot hold"
    assert sentence in detail
    out = _cli_error("monitor", "add", "x", "--aoi", "179.5,0,-179.5,1", "--model",
                     str(tmp_path / "models" / "tiny"), "--home", str(tmp_path / "h"))  # fmt: skip
    assert sentence in " ".join(out.split())
