"""The REST API over a monitored area: AOIs, runs, detections, changes, alerts, tiles."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from tests.service.conftest import API_KEY
from tests.service.registry_fixture import AOI_NAME, DATES, SQUARES, Fixture

KEY = {"X-API-Key": API_KEY}


def test_health_reports_database_archive_and_versions(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] and body["archive_writable"]
    assert body["versions"]["slidewatch"]


def test_aois_are_geojson_features_without_server_paths(client: TestClient) -> None:
    collection = client.get("/aois").json()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["id"] == AOI_NAME and feature["geometry"]["type"] == "Polygon"
    assert "model_path" not in feature["properties"]
    assert client.get(f"/aois/{AOI_NAME}").json()["id"] == AOI_NAME
    assert client.get("/aois/nowhere").status_code == 404


def test_runs_newest_first_with_layers_bounds_and_scenes(
    client: TestClient, monitored: Fixture
) -> None:
    runs = client.get(f"/aois/{AOI_NAME}/runs").json()
    assert [r["acquisition_date"] for r in runs] == list(reversed(DATES))
    run = client.get(f"/runs/{monitored.run_ids[1]}").json()
    assert run["layers"] == ["probability", "landslides", "rgb"]
    assert run["scene_ids"][0].startswith("S2A_MSIL2A_20240611")
    west, south, east, north = run["bounds"]
    assert 91.8 < west < east < 91.9 and 22.4 < south < north < 22.5
    assert all("/" not in p for p in run["products"])  # names, never paths


def test_detections_with_filters_and_change_kinds(client: TestClient, monitored: Fixture) -> None:
    second = monitored.run_ids[1]
    features = client.get(f"/runs/{second}/detections").json()["features"]
    assert len(features) == len(SQUARES[1])
    kinds = sorted(f["properties"]["change"] for f in features)
    assert kinds == ["grown", "new", "unchanged"]
    grown = next(f for f in features if f["properties"]["change"] == "grown")
    assert grown["properties"]["first_seen"] == DATES[0]
    assert grown["properties"]["last_seen"] == DATES[1]
    big = client.get(f"/runs/{second}/detections", params={"min_area_m2": 150_000}).json()
    assert len(big["features"]) == 1  # only the grown 44 x 44 px square (193,600 m²)
    box = grown["geometry"]["coordinates"][0][0]
    near = f"{box[0] - 1e-4},{box[1] - 1e-4},{box[0] + 1e-4},{box[1] + 1e-4}"
    only = client.get(f"/runs/{second}/detections", params={"bbox": near}).json()["features"]
    assert [f["id"] for f in only] == [grown["id"]]
    assert client.get(f"/runs/{second}/detections", params={"bbox": "1,2,3"}).status_code == 422
    assert client.get("/runs/999999/detections").status_code == 404


def test_changes_and_alerts(client: TestClient, monitored: Fixture) -> None:
    changes = client.get(f"/runs/{monitored.run_ids[1]}/changes").json()["features"]
    assert sorted(c["properties"]["kind"] for c in changes) == ["grown", "new", "unchanged"]
    alerts = client.get("/alerts", params={"since": "2000-01-01T00:00:00Z"}).json()
    assert len(alerts) == 3  # one per landslide, ever
    later = client.get("/alerts", params={"since": f"{DATES[1]}T00:00:00Z"}).json()
    assert len(later) == 1
    assert client.get("/alerts", params={"aoi": "nowhere"}).status_code == 404
    assert client.get("/alerts", params={"since": "yesterday"}).status_code == 422


def _tile_over_first_landslide(client: TestClient, run_id: int, z: int) -> tuple[int, int]:
    import morecantile

    features = client.get(f"/runs/{run_id}/detections").json()["features"]
    lon, lat = features[0]["geometry"]["coordinates"][0][0]
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon + 1e-4, lat - 1e-4, z)
    return tile.x, tile.y


def test_tiles_render_each_layer(client: TestClient, monitored: Fixture) -> None:
    run = monitored.run_ids[0]
    x, y = _tile_over_first_landslide(client, run, 15)
    for layer in ("rgb", "probability", "landslides"):
        response = client.get(f"/tiles/{run}/{layer}/15/{x}/{y}.png")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))
        assert image.shape == (256, 256, 4) and image[..., 3].any()
    landslides = client.get(f"/tiles/{run}/landslides/15/{x}/{y}.png").content
    pixels = np.asarray(Image.open(io.BytesIO(landslides)).convert("RGBA")).reshape(-1, 4)
    assert ((pixels == (230, 40, 20, 255)).all(axis=1)).any()  # the landslide colour
    assert (pixels[:, 3] == 0).any()  # background is transparent


def test_tiles_unknown_things_are_404(client: TestClient, monitored: Fixture) -> None:
    run = monitored.run_ids[0]
    assert client.get(f"/tiles/{run}/dem/15/0/0.png").status_code == 404
    assert client.get(f"/tiles/{run}/rgb/15/0/0.png").status_code == 404  # outside the product
    assert client.get(f"/tiles/{run}/rgb/40/0/0.png").status_code == 404
    assert client.get(f"/tiles/{run}/rgb/3/99/0.png").status_code == 404
    assert client.get("/tiles/424242/rgb/15/0/0.png").status_code == 404
