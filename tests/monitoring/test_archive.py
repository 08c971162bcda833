"""The archive on fsspec's local and memory filesystems, and its STAC catalogue."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pystac
import pytest

from slidewatch.monitoring.archive import Archive, stac_item

SQUARE = {"type": "Polygon",
          "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]]}  # fmt: skip


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "archive")
    return f"memory://archive-{uuid.uuid4().hex}"


def _store(archive: Archive, tmp_path: Path, aoi: str, day: str) -> dict[str, str]:
    files = {}
    for name, text in (("landslides.geojson", '{"type": "FeatureCollection", "features": []}'),
                       ("summary.json", "{}")):  # fmt: skip
        path = tmp_path / f"{aoi}-{day}-{name}"
        path.write_text(text)
        files[name] = path
    when = datetime.fromisoformat(f"{day}T15:00:00+00:00").astimezone(UTC)
    return archive.store_run(aoi, day, files, stac_item(aoi, day, when, SQUARE, {"x": 1}))


def test_runs_stored_under_aoi_and_date_with_a_catalogue(root: str, tmp_path: Path) -> None:
    archive = Archive(root)
    _store(archive, tmp_path, "alpha", "2023-03-01")
    _store(archive, tmp_path, "alpha", "2023-03-06")
    urls = _store(archive, tmp_path, "beta", "2023-03-06")
    assert urls["summary.json"] == archive.url("beta", "2023-03-06", "summary.json")
    with fsspec.open(urls["landslides.geojson"]) as f:
        assert json.load(f)["type"] == "FeatureCollection"
    fs = archive.fs
    left = [p for p in fs.find(archive.root) if ".part" in p.rsplit("/", 1)[-1]]
    assert left == []
    catalog = json.loads(archive.read_bytes(archive.url("catalog.json")))
    children = [link["href"] for link in catalog["links"] if link["rel"] == "child"]
    assert children == ["./alpha/collection.json", "./beta/collection.json"]
    collection = json.loads(archive.read_bytes(archive.url("alpha", "collection.json")))
    assert collection["extent"]["temporal"]["interval"] == [
        ["2023-03-01T15:00:00Z", "2023-03-06T15:00:00Z"]
    ]


def test_pystac_walks_the_local_catalogue(tmp_path: Path) -> None:
    archive = Archive(str(tmp_path / "archive"))
    _store(archive, tmp_path, "alpha", "2023-03-01")
    _store(archive, tmp_path, "alpha", "2023-03-06")
    catalog = pystac.Catalog.from_file(str(tmp_path / "archive" / "catalog.json"))
    items = sorted(catalog.get_items(recursive=True), key=lambda i: i.id)
    assert [i.id for i in items] == ["alpha-2023-03-01", "alpha-2023-03-06"]
    asset = items[0].assets["summary"]
    assert Path(asset.get_absolute_href() or "").is_file()
    assert items[0].properties["x"] == 1
