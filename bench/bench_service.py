"""The service under load, in one run:

1. tiles of a stored SIZE² run (probability, landslides, rgb COGs, 10 m) requested by
   ``--clients`` concurrent clients on 127.0.0.1 from a ``slidewatch serve`` subprocess, for a
   fixed count: tiles/s, p50/p99 latency — beside rio-tiler's raw rendering of the same tiles
   in this process (``render_tile`` on the same files, as many threads as clients; goal: server
   tiles/s ≥ 0.8 × raw);
2. ``GET /runs/{id}/detections`` of a run with ``--polygons`` polygons (goal < 0.5 s);
3. the web map with those polygons in headless Chromium: time from navigation to idle
   (goal < 3 s);
4. the slowest tile at the run's lowest served zoom (every tile there, each layer, one at a
   time; goal: under a second, against a minute before zooms were bounded) and a tile of zoom
   0 (now a 404), with the machine's load (``uptime``).

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_service.py [--size 4096] [--tiles 640]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import morecantile
import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds, transform_geom
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

from slidewatch.models.identity import model_hash
from slidewatch.monitoring.archive import Archive
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.aois import AoiSettings
from slidewatch.monitoring.registry.tables import Detection, Landslide, Run
from slidewatch.service.tiles import render_tile

CRS = "EPSG:32646"
ORIGIN = (360_000.0, 2_500_000.0)
PIXEL_M = 10.0
LAYERS = ("rgb", "probability", "landslides")


def write_cog(path: Path, data: np.ndarray, nodata: float, resampling: str) -> None:
    tmp = path.with_suffix(".raw.tif")
    profile = {
        "driver": "GTiff",
        "width": data.shape[-1],
        "height": data.shape[-2],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": CRS,
        "nodata": nodata,
        "transform": from_origin(*ORIGIN, PIXEL_M, PIXEL_M),
        "tiled": True,
    }
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
    cog_translate(
        str(tmp), str(path), cog_profiles.get("deflate"), overview_resampling=resampling, quiet=True
    )
    tmp.unlink()


def make_products(folder: Path, size: int) -> dict[str, str]:
    """Smooth imagery, a probability field and landslides, as the runner archives them."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    coarse = rng.random((3, size // 64 + 1, size // 64 + 1)).astype(np.float32)
    rgb = np.stack([np.kron(c, np.ones((64, 64), np.float32))[:size, :size] for c in coarse])
    rgb += rng.normal(0, 0.02, rgb.shape).astype(np.float32)
    prob = np.clip(rgb[0] * rgb[1] * 1.6 - 0.4, 0, 1).astype(np.float32)
    mask = (prob > 0.5).astype(np.uint8)
    write_cog(folder / "rgb.tif", rgb, float("nan"), "average")
    write_cog(folder / "probability.tif", prob[None], float("nan"), "average")
    write_cog(folder / "landslides.tif", mask[None], 255, "nearest")
    return {f"{n}.tif": str(folder / f"{n}.tif") for n in LAYERS}


def record(home: Path, size: int, polygons: int) -> tuple[int, str]:
    """An AOI and one done run with ``polygons`` detections, through the registry."""
    model = home / "models" / "bench"
    model.mkdir(parents=True)
    (model / "model.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"\0")
    x0, y0 = ORIGIN
    x1, y1 = x0 + size * PIXEL_M, y0 - size * PIXEL_M
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    aoi_geom = transform_geom(CRS, "EPSG:4326", {"type": "Polygon", "coordinates": [ring]})
    aoi_geom = {"type": "Polygon", "coordinates": [[list(p) for p in aoi_geom["coordinates"][0]]]}
    products = make_products(home / "archive" / "bench" / "2024-06-01", size)
    db_url = f"sqlite:///{home / 'registry.db'}"
    with Registry(db_url) as registry:
        aoi = registry.add_aoi(
            AoiSettings(
                name="bench", geometry=aoi_geom, model_path=str(model), model_hash=model_hash(model)
            )
        )
        now = datetime.now(UTC)
        with registry.session() as s:
            run = Run(
                aoi_id=aoi.id,
                acquisition_key="k",
                acquisition_date="2024-06-01",
                scenes=[{"id": "S2B_MSIL2A_20240601", "datetime": "2024-06-01T04:37:00Z"}],
                state="done",
                created_at=now,
                finished_at=now,
                products=products,
            )
            s.add(run)
            s.flush()
            _add_polygons(s, aoi.id, run.id, size, polygons)
            return run.id, db_url


def _add_polygons(s: object, aoi_id: int, run_id: int, size: int, count: int) -> None:
    side = int(np.ceil(np.sqrt(count)))
    step = size * PIXEL_M / side
    west, south, east, north = transform_bounds(
        CRS,
        "EPSG:4326",
        ORIGIN[0],
        ORIGIN[1] - size * PIXEL_M,
        ORIGIN[0] + size * PIXEL_M,
        ORIGIN[1],
    )
    dx, dy = (east - west) / side, (north - south) / side
    for k in range(count):
        i, j = divmod(k, side)
        lon, lat = west + (j + 0.2) * dx, north - (i + 0.2) * dy
        ring = [
            [lon, lat],
            [lon + dx / 2, lat],
            [lon + dx / 2, lat - dy / 2],
            [lon + dx * 0.1, lat - dy * 0.6],
            [lon, lat],
        ]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        area = float((step / 2) ** 2)
        slide = Landslide(
            aoi_id=aoi_id,
            first_run_id=run_id,
            last_run_id=run_id,
            first_seen="2024-06-01",
            last_seen="2024-06-01",
            area_m2=area,
            geometry=geometry,
        )
        s.add(slide)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        s.add(
            Detection(
                run_id=run_id,
                landslide_id=slide.id,
                geometry=geometry,  # type: ignore[attr-defined]
                area_m2=area,
                mean_probability=0.8,
            )
        )


def tile_list(path: Path, count: int) -> list[tuple[str, int, int, int]]:
    """``count`` (layer, z, x, y) covering the product at its native zoom, layers in turn."""
    from rio_tiler.io import Reader

    with Reader(str(path)) as src:
        west, south, east, north = src.get_geographic_bounds("epsg:4326")
        z = src.maxzoom
    tms = morecantile.tms.get("WebMercatorQuad")
    tiles = [
        (t.z, t.x, t.y)
        for t in tms.tiles(west + 1e-6, south + 1e-6, east - 1e-6, north - 1e-6, [z])
    ]
    return [(LAYERS[k % 3], *tiles[k % len(tiles)]) for k in range(count)]


def raw_rate(paths: dict[str, Path], tiles: list[tuple[str, int, int, int]], threads: int) -> float:
    def one(t: tuple[str, int, int, int]) -> None:
        render_tile(products[t[0]], t[0], t[1], t[2], t[3])

    archive = Archive(str(next(iter(paths.values())).parent))
    products = {layer: archive.admit(path) for layer, path in paths.items()}

    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        list(pool.map(one, tiles))
        return len(tiles) / (time.perf_counter() - start)


async def served(
    url: str, run_id: int, tiles: list[tuple[str, int, int, int]], clients: int
) -> tuple[float, list[float]]:
    queue: asyncio.Queue[tuple[str, int, int, int]] = asyncio.Queue()
    for t in tiles:
        queue.put_nowait(t)
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            layer, z, x, y = queue.get_nowait()
            t0 = time.perf_counter()
            response = await http.get(f"{url}/tiles/{run_id}/{layer}/{z}/{x}/{y}.png")
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return len(tiles) / (time.perf_counter() - start), latencies


def start_server(home: Path, db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SLIDEWATCH_API_KEYS": "bench"}
    command = [
        sys.executable,
        "-m",
        "slidewatch",
        "serve",
        "--home",
        str(home),
        "--db",
        db_url,
        "--storage",
        str(home / "archive"),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def page_idle_s(url: str) -> float:
    from playwright.sync_api import sync_playwright

    args = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=args
        )
        page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
        start = time.perf_counter()
        page.goto(url + "/")
        page.wait_for_selector("body[data-state=idle]", timeout=120_000)
        elapsed = time.perf_counter() - start
        features = page.evaluate("document.body.dataset.features")
        browser.close()
    print(f"  page showed {features} polygons")
    return elapsed


def slowest_low_tile(url: str, run_id: int) -> None:
    """Item 4: every tile of the lowest served zoom, one at a time; the slowest."""
    with httpx.Client(timeout=300) as http:
        run = http.get(f"{url}/runs/{run_id}").json()
        west, south, east, north = run["bounds"]
        z = run["minzoom"]
        tms = morecantile.tms.get("WebMercatorQuad")
        found = []
        for t in tms.tiles(west + 1e-6, south + 1e-6, east - 1e-6, north - 1e-6, [z]):
            for layer in LAYERS:
                start = time.perf_counter()
                status = http.get(f"{url}/tiles/{run_id}/{layer}/{z}/{t.x}/{t.y}.png").status_code
                found.append((time.perf_counter() - start, layer, t.x, t.y, status))
        worst = max(found)
        start = time.perf_counter()
        zero = http.get(f"{url}/tiles/{run_id}/rgb/0/0/0.png").status_code
        zero_s = time.perf_counter() - start
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"4. slowest tile at the lowest served zoom z{z} (zooms {run['minzoom']}..{run['maxzoom']},"
        f" {len(found)} tiles): {worst[0] * 1e3:.0f} ms ({worst[1]} {z}/{worst[2]}/{worst[3]}, "
        f"HTTP {worst[4]}); z0 tile: HTTP {zero} in {zero_s * 1e3:.0f} ms; load: {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--tiles", type=int, default=640)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--polygons", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-browser", action="store_true", help="skip the web map (item 3)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-service-"))
    try:
        t0 = time.perf_counter()
        run_id, db_url = record(home, args.size, args.polygons)
        print(
            f"stored a {args.size}² run with {args.polygons} polygons in "
            f"{time.perf_counter() - t0:.1f} s ({os.cpu_count()} cores)"
        )
        folder = home / "archive" / "bench" / "2024-06-01"
        paths = {n: folder / f"{n}.tif" for n in LAYERS}
        tiles = tile_list(paths["landslides"], args.tiles)
        raw_rate(
            paths, tiles[:30], args.clients
        )  # warm GDAL's caches and the RGB stretch, as the server will
        raw = raw_rate(paths, tiles, args.clients)
        server = start_server(home, db_url, args.port)
        url = f"http://127.0.0.1:{args.port}"
        try:
            asyncio.run(served(url, run_id, tiles[:30], 4))  # warm-up
            rate, latencies = asyncio.run(served(url, run_id, tiles, args.clients))
            p50, p99 = np.percentile(latencies, [50, 99])
            print(
                f"1. tiles: served {rate:.1f} tiles/s (p50 {p50 * 1e3:.0f} ms, p99 "
                f"{p99 * 1e3:.0f} ms, {args.clients} clients, {len(tiles)} tiles z{tiles[0][1]}) "
                f"vs raw rio-tiler {raw:.1f} tiles/s: ratio {rate / raw:.2f} (goal >= 0.8)"
            )
            times = []
            with httpx.Client(timeout=60) as http:
                for _ in range(5):
                    start = time.perf_counter()
                    response = http.get(f"{url}/runs/{run_id}/detections")
                    times.append(time.perf_counter() - start)  # request, query and transfer
            count = len(response.json()["features"])
            print(
                f"2. GET /runs/{{id}}/detections: {count} polygons, "
                f"{len(response.content) / 1e6:.1f} MB in {statistics.median(times):.3f} s "
                "median of 5 (goal < 0.5 s)"
            )
            if not args.no_browser:
                idle = page_idle_s(url)
                print(f"3. web map with {args.polygons} polygons idle after {idle:.2f} s "
                      "(goal < 3 s)")  # fmt: skip
            slowest_low_tile(url, run_id)
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
