"""Tiles are served only in a run's zoom range, within a read budget, a few at a time (issue 22:
``/tiles/{run}/rgb/0/0/0.png`` took a core for a minute)."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from tests.service.conftest import settings_for
from tests.service.pipeline_fixture import Fixture
from tests.service.test_api import tile_over

from slidewatch.service.app import create_app
from slidewatch.service.tiles import MAX_READ_PX, TILE_PX, read_pixels


def test_only_the_runs_zooms_are_served(client: TestClient, monitored: Fixture) -> None:
    run = client.get(f"/runs/{monitored.run_ids[1]}").json()
    low, high = run["minzoom"], run["maxzoom"]
    assert 0 < low <= high
    served = 0
    for z in (0, 1, low - 1, low, high, high + 1, 24):
        x, y = tile_over(monitored.example.new_scar, z)
        started = time.perf_counter()
        answer = client.get(f"/tiles/{run['id']}/rgb/{z}/{x}/{y}.png")
        assert answer.status_code == (200 if low <= z <= high else 404), z
        assert time.perf_counter() - started < 30
        if answer.status_code == 404:
            assert f"{low}..{high}" in answer.json()["detail"]
        served += answer.status_code == 200
    assert served == 2


def test_the_read_budget() -> None:
    assert read_pixels(20, 0.0, 10.0) == TILE_PX**2  # finer than the file: one tile's worth
    assert read_pixels(0, 0.0, 10.0) > MAX_READ_PX  # the world from 10 m pixels
    assert read_pixels(12, 45.0, 80.0) <= MAX_READ_PX  # a 10 m file with 8x overviews at z12


def test_renders_are_limited_and_a_flood_is_told_to_retry(
    monitored: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slidewatch.service.routes import tiles

    release = threading.Event()
    started = threading.Event()

    def slow_render(*args: object) -> bytes:
        started.set()
        release.wait(30)
        return b"\x89PNG"

    monkeypatch.setattr(tiles, "render_tile", slow_render)
    monkeypatch.setattr(tiles, "RENDER_WAIT_S", 0.3)
    app = create_app(settings_for(monitored, max_tile_renders=1))
    with TestClient(app) as c:
        run = c.get(f"/runs/{monitored.run_ids[1]}").json()
        url = f"/tiles/{run['id']}/rgb/{run['maxzoom']}/0/0.png"
        first: list[int] = []
        worker = threading.Thread(target=lambda: first.append(c.get(url).status_code))
        worker.start()
        assert started.wait(30)
        second = c.get(url)
        assert second.status_code == 429 and second.headers["retry-after"]
        release.set()
        worker.join(30)
        assert first == [200]
        assert c.get(url).status_code == 200  # the slot was given back
