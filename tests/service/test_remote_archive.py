"""Tiles from an archive on an fsspec filesystem (``memory://`` here, ``s3://`` alike):
served through rasterio's ``opener=``, and still only files inside the archive."""

from __future__ import annotations

import asyncio
import io
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import httpx
import numpy as np
import pytest
from PIL import Image
from tests.service.conftest import settings_for
from tests.service.pipeline_fixture import Fixture
from tests.service.test_security import _tile_inside, opened  # noqa: F401  (a fixture)

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Run
from slidewatch.service.app import create_app
from slidewatch.service.tiles import LANDSLIDE_RGBA


@pytest.fixture
def remote(monitored: Fixture, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """The monitored archive copied to ``memory://`` with a registry naming it there, and a
    product outside it: (storage URL, registry URL, URL of the outside file)."""
    fs = fsspec.filesystem("memory")
    bucket = f"/sw-{uuid.uuid4().hex[:8]}"
    fs.put(str(monitored.archive), f"{bucket}/archive", recursive=True)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(monitored.home / "registry.db", home / "registry.db")
    db_url = f"sqlite:///{home / 'registry.db'}"
    with Registry(db_url) as registry, registry.session() as s:
        for run in s.query(Run):
            run.products = {
                k: v.replace(str(monitored.archive), f"memory:/{bucket}/archive")
                for k, v in (run.products or {}).items()
            }
            first_rgb = run.products.get("rgb.tif")
    outside = f"{bucket}/archive-outside/secret.tif"
    fs.copy(fs._strip_protocol(first_rgb), outside)
    yield f"memory:/{bucket}/archive", db_url, f"memory:/{outside}"
    fs.rm(bucket, recursive=True)


def _get(app: Any, *urls: str) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            return [await client.get(u) for u in urls]

    return asyncio.run(go())


def test_tiles_from_a_memory_archive(
    monitored: Fixture, remote: tuple[str, str, str], tmp_path: Path
) -> None:
    storage, db_url, _ = remote
    app = create_app(settings_for(monitored, home=tmp_path, db_url=db_url, storage=storage))
    run_id = monitored.run_ids[1]
    x, y = _tile_inside(monitored.example.new_scar)
    layers = ("landslides", "rgb", "probability")
    urls = [f"/runs/{run_id}", "/health", *(f"/tiles/{run_id}/{n}/14/{x}/{y}.png" for n in layers)]
    run, health, *tiles = _get(app, *urls)
    assert run.status_code == 200 and run.json()["bounds"] is not None
    assert health.json()["archive_writable"] is True
    assert [t.status_code for t in tiles] == [200, 200, 200]
    assert all(t.headers["content-type"] == "image/png" for t in tiles)
    pixels = np.asarray(Image.open(io.BytesIO(tiles[0].content)).convert("RGBA")).reshape(-1, 4)
    assert (pixels == LANDSLIDE_RGBA).all(axis=1).any()  # the new scar, in class colour


@pytest.mark.parametrize(
    "target", ["outside-url", "dotdot", "dotdot-url", "absolute", "other-protocol", "folder"]
)
def test_memory_archive_refuses_files_outside(
    monitored: Fixture, remote: tuple[str, str, str], tmp_path: Path, opened: list[str],  # noqa: F811
    target: str,
) -> None:  # fmt: skip
    storage, db_url, outside = remote
    stored = {
        "outside-url": outside,
        "dotdot": "../archive-outside/secret.tif",
        "dotdot-url": f"{storage}/../archive-outside/secret.tif",
        "absolute": outside.removeprefix("memory:/"),
        "other-protocol": "file:///etc/passwd",
        "folder": f"{storage}/{monitored.aoi}",
    }[target]
    run_id = monitored.run_ids[0]
    with Registry(db_url) as registry, registry.session() as s:
        run = s.get_one(Run, run_id)
        run.products = {**run.products, "rgb.tif": stored}
    app = create_app(settings_for(monitored, home=tmp_path, db_url=db_url, storage=storage))
    x, y = _tile_inside(monitored.example.new_scar)
    opened.clear()
    (response, control) = _get(app, f"/tiles/{run_id}/rgb/14/{x}/{y}.png",
                               f"/tiles/{run_id}/landslides/14/{x}/{y}.png")  # fmt: skip
    assert response.status_code == 404 and "secret" not in response.text
    assert not any("secret" in p or "passwd" in p for p in opened)
    assert control.status_code == 200  # the same run's own products are served
