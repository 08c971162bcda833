"""``GET /runs/{id}/products/{name}``: a run's archived files, with HTTP Range (GDAL reads a
COG through /vsicurl/ from a real server on 127.0.0.1), the ``change`` layer as tiles, and no
server path in any answer (links under the public URL)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from tests.service.conftest import LiveServer, settings_for
from tests.service.pipeline_fixture import AOI_NAME, Fixture
from tests.service.test_api import tile_over
from tests.service.test_remote_archive import remote  # noqa: F401  (a fixture)

from slidewatch.monitoring.alerts.payload import Links
from slidewatch.monitoring.registry import Registry
from slidewatch.service.app import create_app
from slidewatch.service.products import byte_range
from slidewatch.service.public import hide_text

COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def _stored(monitored: Fixture, run_id: int) -> dict[str, str]:
    with Registry(monitored.db_url) as registry:
        return dict(registry.run(run_id).products or {})


def test_every_product_the_registry_names_is_served(client: TestClient, monitored: Fixture) -> None:
    run_id = monitored.run_ids[1]
    run = client.get(f"/runs/{run_id}").json()
    stored = _stored(monitored, run_id)
    assert set(run["products"]) == set(stored) and "change.tif" in stored
    for name, link in run["links"]["products"].items():
        assert link == f"/runs/{run_id}/products/{name}"
        response = client.get(link)
        assert response.status_code == 200, (name, response.text)
        assert response.content == Path(stored[name]).read_bytes()
        assert response.headers["accept-ranges"] == "bytes"
    kinds = {n: client.get(f"/runs/{run_id}/products/{n}").headers["content-type"]
             for n in ("change.tif", "change.geojson", "stac_item")}  # fmt: skip
    assert kinds == {"change.tif": COG, "change.geojson": "application/geo+json",
                     "stac_item": "application/geo+json"}  # fmt: skip
    # the STAC item's assets resolve beside it, to the products route
    item = client.get(f"/runs/{run_id}/products/stac_item").json()
    assert item["assets"]["change"]["href"] == "./change.tif"


def test_range_requests_answer_206(client: TestClient, monitored: Fixture) -> None:
    run_id = monitored.run_ids[0]
    data = Path(_stored(monitored, run_id)["probability.tif"]).read_bytes()
    url = f"/runs/{run_id}/products/probability.tif"
    part = client.get(url, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == data[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(data)}"
    tail = client.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == data[-16:]
    outside = client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert outside.status_code == 416
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))


def test_byte_range_parsing() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=90-500", 100) == (90, 99)
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file
    assert byte_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=5-1", "bytes=-0"):
        with pytest.raises(ValueError):
            byte_range(bad, 100)


@pytest.mark.parametrize(
    "name",
    ["registry.db", "..%2F..%2Fregistry.db", "%2e%2e", "%2e%2e%2fitem.json", "hills", "probability",
     "change.tif%00", "stac_item.json"],
)  # fmt: skip
def test_anything_else_is_404(client: TestClient, monitored: Fixture, name: str) -> None:
    response = client.get(f"/runs/{monitored.run_ids[1]}/products/{name}")
    assert response.status_code == 404
    assert str(monitored.home) not in response.text and "Traceback" not in response.text


def test_other_runs_and_paths_are_404(client: TestClient, monitored: Fixture) -> None:
    assert client.get("/runs/424242/products/change.tif").status_code == 404
    assert client.get(f"/runs/{monitored.run_ids[1]}/products/a/b").status_code == 404


def test_gdal_reads_the_cog_through_vsicurl(live: LiveServer, monitored: Fixture) -> None:
    run_id = monitored.run_ids[1]
    local = _stored(monitored, run_id)["probability.tif"]
    # GDAL as QGIS runs it: a HEAD for the size, then ranges
    env = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_HTTP_MAX_RETRY": "0",
           "VSI_CACHE": "FALSE"}  # fmt: skip
    url = f"/vsicurl/{live.url}/runs/{run_id}/products/probability.tif"
    with rasterio.Env(**env), rasterio.open(url) as served, rasterio.open(local) as src:
        assert served.profile["blockxsize"] == src.profile["blockxsize"]
        assert served.overviews(1) == src.overviews(1)
        window = rasterio.windows.Window(3, 5, 40, 30)
        np.testing.assert_array_equal(served.read(1, window=window), src.read(1, window=window))
        np.testing.assert_array_equal(
            served.read(1, out_shape=(8, 8)), src.read(1, out_shape=(8, 8))
        )


def test_change_tiles_show_new_ground_and_unseen_ground(
    client: TestClient, monitored: Fixture
) -> None:
    run = client.get(f"/runs/{monitored.run_ids[1]}").json()
    assert "change" in run["layers"]
    z = run["maxzoom"]

    def pixels(geometry: dict[str, object]) -> np.ndarray:
        x, y = tile_over(geometry, z)
        response = client.get(f"/tiles/{run['id']}/change/{z}/{x}/{y}.png")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA")).reshape(-1, 4)

    assert (pixels(monitored.example.new_scar) == (255, 230, 0, 255)).all(axis=1).any()  # new
    assert (pixels(monitored.example.cloud) == (150, 150, 150, 170)).all(axis=1).any()  # unseen


def _texts(client: TestClient, monitored: Fixture) -> dict[str, str]:
    run = monitored.run_ids[1]
    urls = [f"/runs/{run}", f"/aois/{AOI_NAME}/runs", "/alerts?since=1970-01-01T00:00:00Z",
            f"/runs/{run}/detections", f"/runs/{run}/changes",
            f"/runs/{run}/products/stac_item"]  # fmt: skip
    return {url: client.get(url).text for url in urls}


def test_no_server_path_in_any_answer(client: TestClient, monitored: Fixture) -> None:
    home = str(monitored.home.resolve())
    for url, text in _texts(client, monitored).items():
        assert home not in text and str(monitored.home) not in text, url
        assert "/tmp/" not in text, url


def test_links_are_absolute_under_the_public_url(monitored: Fixture) -> None:
    base = "https://slides.example.org/watch"
    with TestClient(create_app(settings_for(monitored, public_url=base))) as c:
        run = c.get(f"/runs/{monitored.run_ids[1]}").json()
        runs = c.get(f"/aois/{AOI_NAME}/runs").json()
    links = run["links"]
    assert links["self"] == f"{base}/runs/{run['id']}"
    assert links["map"] == f"{base}/?aoi={AOI_NAME}&run={run['id']}"
    assert all(
        u.startswith(f"{base}/runs/{run['id']}/products/") for u in links["products"].values()
    )
    assert runs[0]["links"]["self"].startswith(base + "/runs/")
    assert json.dumps(run).count("https://") == json.dumps(run).count(base)


def test_links_and_path_hiding() -> None:
    assert Links("").url("/runs/3") == "/runs/3"
    assert Links("https://x.org/sw/").url("/runs/3") == "https://x.org/sw/runs/3"
    assert Links("").product(3, "change.tif") == "/runs/3/products/change.tif"
    assert Links("https://x.org").map_view("hills", 3, 7) == (
        "https://x.org/?aoi=hills&run=3&landslide=7"
    )
    text = "cannot open /srv/home/archive/hills/2023-03-06/rgb.tif (see GET /runs/{id} or /runs/3)"
    assert hide_text(text, ["/srv/home/archive", "/srv/home"]) == (
        "cannot open hills/2023-03-06/rgb.tif (see GET /runs/{id} or /runs/3)"
    )
    assert hide_text("no catalogue at /data/x/catalog.json") == "no catalogue at catalog.json"


def test_products_from_a_memory_archive(
    monitored: Fixture, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """An fsspec archive: the range asked read by itself, the whole file streamed, 416 past
    the end."""
    import asyncio

    import httpx

    storage, db_url, _ = request.getfixturevalue("remote")
    app = create_app(settings_for(monitored, home=tmp_path, db_url=db_url, storage=storage))
    run_id = monitored.run_ids[1]
    data = Path(_stored(monitored, run_id)["probability.tif"]).read_bytes()
    url = f"/runs/{run_id}/products/probability.tif"

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            asks = [{}, {"Range": "bytes=10-19"}, {"Range": "bytes=-5"},
                    {"Range": f"bytes={len(data)}-"}]  # fmt: skip
            return [await client.get(url, headers=h) for h in asks] + [await client.head(url)]

    whole, part, tail, past, head = asyncio.run(go())
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == COG and whole.headers["accept-ranges"] == "bytes"
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert tail.status_code == 206 and tail.content == data[-5:]
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"


def test_a_cog_viewer_on_another_origin_may_ask_ranges(monitored: Fixture) -> None:
    origin = "https://viewer.example.org"
    with TestClient(create_app(settings_for(monitored, cors_origins=origin))) as c:
        url = f"/runs/{monitored.run_ids[1]}/products/probability.tif"
        asking = {"Origin": origin, "Access-Control-Request-Method": "GET",
                  "Access-Control-Request-Headers": "range"}  # fmt: skip
        preflight = c.options(url, headers=asking)
        part = c.get(url, headers={"Origin": origin, "Range": "bytes=0-99"})
    assert preflight.status_code == 200
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    assert part.status_code == 206
    assert "Content-Range" in part.headers["access-control-expose-headers"]
