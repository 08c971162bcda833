"""The REST API over an archive made by the monitoring pipeline: AOIs, runs, detections,
changes, alerts and tiles."""

from __future__ import annotations

import io
from typing import Any

import morecantile
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import shape
from tests.service.conftest import API_KEY
from tests.service.pipeline_fixture import AOI_NAME, DATES, Fixture

from slidewatch.monitoring.registry import Registry


def _features(client: TestClient, run_id: int, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/runs/{run_id}/detections", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return list(response.json()["features"])


def _new_one(features: list[dict[str, Any]], monitored: Fixture) -> dict[str, Any]:
    (new,) = [f for f in features if f["properties"]["change"] == "new"]
    assert shape(new["geometry"]).intersects(shape(monitored.example.new_scar))
    return new


def test_health_reports_database_archive_and_versions(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] and body["archive_writable"]
    assert "versions" not in body  # versions only to key holders
    keyed = client.get("/health", headers={"X-API-Key": API_KEY}).json()
    assert keyed["versions"]["slidewatch"] and keyed["versions"]["fastapi"]


def test_aois_are_geojson_features_without_server_paths(client: TestClient) -> None:
    collection = client.get("/aois").json()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["id"] == AOI_NAME and feature["geometry"]["type"] == "Polygon"
    assert "model_path" not in feature["properties"] and "source" not in feature["properties"]
    assert client.get(f"/aois/{AOI_NAME}").json()["id"] == AOI_NAME
    assert client.get("/aois/nowhere").status_code == 404


def test_runs_newest_first_with_layers_bounds_and_scenes(
    client: TestClient, monitored: Fixture
) -> None:
    runs = client.get(f"/aois/{AOI_NAME}/runs").json()
    assert [r["acquisition_date"] for r in runs if r["state"] == "done"] == list(reversed(DATES))
    run = client.get(f"/runs/{monitored.run_ids[1]}").json()
    assert run["layers"] == ["probability", "landslides", "change", "rgb"]
    assert run["scene_ids"] == ["S2B_EXAMPLE_20230306"] and run["scene_dates"] == [DATES[1]]
    west, south, east, north = run["bounds"]
    aoi = shape(monitored.example.aoi)
    assert west <= aoi.bounds[0] and aoi.bounds[2] <= east  # the product covers the AOI
    assert south <= aoi.bounds[1] and aoi.bounds[3] <= north
    assert all("/" not in p for p in run["products"])  # names, never paths


def test_detections_match_the_registry_and_carry_change_kinds(
    client: TestClient, monitored: Fixture
) -> None:
    first, second = monitored.run_ids
    with Registry(monitored.db_url) as registry:
        expected = [len(registry.detections_geojson(r)["features"]) for r in (first, second)]
    assert [len(_features(client, r)) for r in (first, second)] == expected
    features = _features(client, second)
    new = _new_one(features, monitored)
    assert new["properties"]["first_seen"] == new["properties"]["last_seen"] == DATES[1]
    seen_twice = [f for f in features if f["properties"]["first_seen"] == DATES[0]]
    assert seen_twice and all(f["properties"]["last_seen"] == DATES[1] for f in seen_twice)
    assert all(0.5 <= f["properties"]["mean_probability"] <= 1 for f in features)


def test_detection_filters(client: TestClient, monitored: Fixture) -> None:
    second = monitored.run_ids[1]
    features = _features(client, second)
    areas = sorted(f["properties"]["area_m2"] for f in features)
    threshold = areas[len(areas) // 2]
    large = _features(client, second, min_area_m2=threshold)
    assert len(large) == sum(a >= threshold for a in areas) < len(features)
    x0, y0, x1, y1 = shape(monitored.example.new_scar).bounds
    near = _features(client, second, bbox=f"{x0},{y0},{x1},{y1}")
    assert _new_one(near, monitored) and len(near) < len(features)
    assert client.get(f"/runs/{second}/detections", params={"bbox": "1,2,3"}).status_code == 422
    assert client.get(f"/runs/{second}/detections", params={"bbox": "5,0,1,1"}).status_code == 422
    assert client.get("/runs/999999/detections").status_code == 404


def test_changes_and_alerts(client: TestClient, monitored: Fixture) -> None:
    response = client.get(f"/runs/{monitored.run_ids[1]}/changes")
    kinds = [c["properties"]["kind"] for c in response.json()["features"]]
    assert kinds.count("new") == 1 and "unknown" in kinds and "gone" not in kinds
    alerts = client.get("/alerts", params={"since": "2000-01-01T00:00:00Z"}).json()
    assert len(alerts) == 1 and alerts[0]["run_id"] == monitored.run_ids[1]
    assert client.get("/alerts", params={"since": "2100-01-01T00:00:00Z"}).json() == []
    assert client.get("/alerts", params={"aoi": "nowhere"}).status_code == 404
    assert client.get("/alerts", params={"since": "yesterday"}).status_code == 422


def tile_over(geometry: dict[str, Any], z: int) -> tuple[int, int]:
    point = shape(geometry).representative_point()
    tile = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, z)
    return tile.x, tile.y


def _rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_tiles_render_each_layer(client: TestClient, monitored: Fixture) -> None:
    run = client.get(f"/runs/{monitored.run_ids[1]}").json()
    z = run["maxzoom"]
    x, y = tile_over(monitored.example.new_scar, z)
    for layer in ("rgb", "probability", "landslides"):
        response = client.get(f"/tiles/{run['id']}/{layer}/{z}/{x}/{y}.png")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = _rgba(response.content)
        assert image.shape == (256, 256, 4) and image[..., 3].any()
    rgb = _rgba(client.get(f"/tiles/{run['id']}/rgb/{z}/{x}/{y}.png").content)
    assert rgb[..., :3].std() > 5  # a stretched image, not a flat colour
    pixels = _rgba(client.get(f"/tiles/{run['id']}/landslides/{z}/{x}/{y}.png").content)
    pixels = pixels.reshape(-1, 4)
    assert (pixels == (230, 40, 20, 255)).all(axis=1).any()  # the landslide colour
    assert (pixels[:, 3] == 0).any()  # background is transparent


def test_tiles_unknown_things_are_404(client: TestClient, monitored: Fixture) -> None:
    run = monitored.run_ids[0]
    assert client.get(f"/tiles/{run}/dem/15/0/0.png").status_code == 404
    assert client.get(f"/tiles/{run}/rgb/15/0/0.png").status_code == 404  # outside the product
    assert client.get(f"/tiles/{run}/rgb/40/0/0.png").status_code == 404
    assert client.get(f"/tiles/{run}/rgb/3/99/0.png").status_code == 404
    assert client.get("/tiles/424242/rgb/15/0/0.png").status_code == 404
