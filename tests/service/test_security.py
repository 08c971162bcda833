"""Path traversal, symlinks out of the archive, API keys, limits: 4xx, and nothing read."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import rasterio
from fastapi.testclient import TestClient
from tests.service.conftest import API_KEY, SMALL_AOI, make_model_dir, settings_for
from tests.service.pipeline_fixture import Fixture

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Run
from slidewatch.service.app import create_app
from slidewatch.service.auth import key_matches

TRAVERSALS = ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e%2f", "a%00b"]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path rasterio opens during the test (a spy on the real function)."""
    paths: list[str] = []
    real = rasterio.open

    def spy(fp: object, *args: object, **kwargs: object) -> object:
        paths.append(str(fp))
        return real(fp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rasterio, "open", spy)
    monkeypatch.setattr("rio_tiler.io.rasterio.rasterio.open", spy)
    return paths


@pytest.mark.parametrize("evil", TRAVERSALS)
def test_traversal_in_every_path_parameter_is_404(client: TestClient, evil: str) -> None:
    urls = [
        f"/aois/{evil}",
        f"/aois/{evil}/runs",
        f"/runs/{evil}",
        f"/runs/{evil}/detections",
        f"/tiles/{evil}/rgb/1/0/0.png",
        f"/tiles/1/{evil}/1/0/0.png",
        f"/jobs/{evil}",
        f"/jobs/{evil}/results",
        f"/processes/{evil}",
        f"/static/{evil}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (404, 422), url
        assert "root:" not in response.text


def _run_with_product(fixture: Fixture, tmp: Path, target: str) -> tuple[TestClient, int]:
    """A copy of the monitored area whose first run's RGB product is ``target``."""
    home = tmp / "copy"
    shutil.copytree(fixture.home, home)
    db_url = f"sqlite:///{home / 'registry.db'}"
    with Registry(db_url) as registry, registry.session() as s:
        run = s.get_one(Run, fixture.run_ids[0])
        moved = {k: v.replace(str(fixture.home), str(home)) for k, v in run.products.items()}
        run.products = {**moved, "rgb.tif": target}
    settings = settings_for(fixture, home=home, db_url=db_url, storage=str(home / "archive"))
    return TestClient(create_app(settings)), fixture.run_ids[0]


@pytest.mark.parametrize("kind", ["symlink-out", "absolute-out", "dotdot", "symlink-dir-out"])
def test_products_outside_the_archive_are_404_and_not_read(
    monitored: Fixture, tmp_path: Path, opened: list[str], kind: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.tif"
    with Registry(monitored.db_url) as registry:
        shutil.copy(registry.run(monitored.run_ids[0]).products["rgb.tif"], secret)
    archive = tmp_path / "copy" / "archive"
    if kind == "symlink-out":
        target = "evil.tif"
    elif kind == "absolute-out":
        target = str(secret)
    elif kind == "dotdot":
        target = "../../outside/secret.tif"
    else:
        target = "evil-dir/secret.tif"
    client, run = _run_with_product(monitored, tmp_path, target)
    (archive / "evil.tif").symlink_to(secret)
    (archive / "evil-dir").symlink_to(outside, target_is_directory=True)
    x, y = _tile_inside(monitored.example.new_scar)
    with client:
        opened.clear()
        response = client.get(f"/tiles/{run}/rgb/14/{x}/{y}.png")
        assert not any("secret" in p or "evil" in p for p in opened)
        control = client.get(f"/tiles/{run}/landslides/14/{x}/{y}.png")
    assert response.status_code == 404 and str(outside) not in response.text
    assert control.status_code == 200 and any("landslides.tif" in p for p in opened)  # spy works


def _tile_inside(geometry: dict[str, Any]) -> tuple[int, int]:
    import morecantile
    from shapely.geometry import shape

    point = shape(geometry).representative_point()
    tile = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, 14)  # the runs' maxzoom
    return tile.x, tile.y


def _feature(name: str = "new-area", **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": SMALL_AOI,
        "properties": {"name": name, "model": "tiny", **props},
    }


def test_writes_need_a_valid_key(fresh: TestClient) -> None:
    assert fresh.post("/aois", json=_feature()).status_code == 401
    assert fresh.post("/aois", json=_feature(), headers={"X-API-Key": "wrong"}).status_code == 403
    assert fresh.delete("/aois/x", headers={"X-API-Key": API_KEY[:-1]}).status_code == 403
    assert fresh.post("/processes/detect/execution", json={}).status_code == 401
    assert fresh.delete("/jobs/00000000-0000-0000-0000-000000000000").status_code == 401
    assert fresh.get("/aois").status_code == 200  # reads open by default


def test_reads_can_be_closed(tmp_path: Path) -> None:
    from slidewatch.service.settings import ServiceSettings

    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY, read_requires_key=True)
    with TestClient(create_app(settings)) as c:
        assert c.get("/aois").status_code == 401
        assert c.get("/aois", headers={"X-API-Key": API_KEY}).status_code == 200
        assert c.get("/health").status_code == 200


def test_no_keys_configured_refuses_every_write(tmp_path: Path) -> None:
    from slidewatch.service.settings import ServiceSettings

    with TestClient(create_app(ServiceSettings(home=tmp_path))) as c:
        response = c.post("/aois", json=_feature(), headers={"X-API-Key": "anything"})
    assert response.status_code == 403 and "SLIDEWATCH_API_KEYS" in response.json()["detail"]


def test_key_comparison() -> None:
    assert key_matches("abc", ("x", "abc"))
    assert not key_matches("abd", ("abc",)) and not key_matches("", ("abc",))
    assert not key_matches("é", ("e",))


def test_add_patch_delete_an_aoi(fresh: TestClient) -> None:
    key = {"X-API-Key": API_KEY}
    created = fresh.post("/aois", json=_feature(cadence_days=3), headers=key)
    assert created.status_code == 201 and created.headers["location"] == "/aois/new-area"
    assert fresh.post("/aois", json=_feature(), headers=key).status_code == 409
    patched = fresh.patch("/aois/new-area", json={"cadence_days": 7, "active": False}, headers=key)
    assert patched.status_code == 200
    assert patched.json()["properties"]["cadence_days"] == 7
    assert fresh.patch("/aois/new-area", json={"name": "x"}, headers=key).status_code == 422
    assert fresh.delete("/aois/new-area", headers=key).status_code == 204
    assert fresh.get("/aois/new-area").status_code == 404


@pytest.mark.parametrize(
    ("geometry", "status"),
    [
        ({"type": "Point", "coordinates": [91.8, 22.4]}, 422),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, 422),
        ({"type": "Polygon", "coordinates": "nonsense"}, 422),
        ({"type": "Polygon", "coordinates": [[[0, 0], [40, 0], [40, 40], [0, 0]]]}, 413),
    ],
)
def test_invalid_or_oversized_geometry(fresh: TestClient, geometry: object, status: int) -> None:
    body = {**_feature(), "geometry": geometry}
    response = fresh.post("/aois", json=body, headers={"X-API-Key": API_KEY})
    assert response.status_code == status, response.text


def test_too_many_vertices_and_too_large_body(fresh: TestClient) -> None:
    ring = [[91.8 + 1e-5 * i, 22.4 + 1e-9 * i * i] for i in range(30_000)]
    body = {**_feature(), "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}
    response = fresh.post("/aois", json=body, headers={"X-API-Key": API_KEY})
    assert response.status_code == 413
    huge = b'{"x": "' + b"a" * 3_000_000 + b'"}'
    response = fresh.post(
        "/aois", content=huge, headers={"X-API-Key": API_KEY, "content-type": "application/json"}
    )
    assert response.status_code == 413


def test_unknown_model_and_source_are_422(fresh: TestClient) -> None:
    key = {"X-API-Key": API_KEY}
    assert (
        fresh.post("/aois", json=_feature(model="../models/tiny"), headers=key).status_code == 422
    )
    response = fresh.post("/aois", json=_feature(model="missing"), headers=key)
    assert response.status_code == 422 and "tiny" in response.json()["detail"]
    assert fresh.post("/aois", json=_feature(source="elsewhere"), headers=key).status_code == 422
    make_model_dir  # noqa: B018 - the fixture's model is named "tiny"


def test_cors_is_off_by_default_and_follows_the_setting(tmp_path: Path) -> None:
    from slidewatch.service.settings import ServiceSettings

    origin = {"Origin": "http://example.org"}
    with TestClient(create_app(ServiceSettings(home=tmp_path / "a"))) as c:
        assert "access-control-allow-origin" not in c.get("/aois", headers=origin).headers
    settings = ServiceSettings(home=tmp_path / "b", cors_origins="http://example.org")
    with TestClient(create_app(settings)) as c:
        allowed = c.get("/aois", headers=origin).headers
        assert allowed["access-control-allow-origin"] == "http://example.org"
        other = c.get("/aois", headers={"Origin": "http://evil.test"}).headers
        assert "access-control-allow-origin" not in other
