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


def test_a_refresh_reads_only_the_items_its_collection_does_not_link(
    root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive(root)
    for day in ("2023-03-01", "2023-03-06", "2023-03-11"):
        _store(archive, tmp_path, "alpha", day)
    # A run killed after writing its item, before the collection: the next refresh adds it.
    when = datetime(2023, 3, 16, 15, tzinfo=UTC)
    orphan = stac_item("alpha", "2023-03-16", when, SQUARE, {"x": 1}) | {"bbox": [-1, -1, 0, 0]}
    archive.write_bytes(json.dumps(orphan).encode(), "alpha", "2023-03-16", "item.json")
    read: list[str] = []
    original = archive.read_bytes
    monkeypatch.setattr(archive, "read_bytes", lambda url: read.append(url) or original(url))
    _store(archive, tmp_path, "alpha", "2023-03-21")
    items = [u.rsplit("/", 2)[-2] for u in read if u.endswith("item.json")]
    # not the three it linked already, nor the one the run just wrote (it has it in hand)
    assert items == ["2023-03-16"]
    collection = json.loads(original(archive.url("alpha", "collection.json")))
    hrefs = [link["href"] for link in collection["links"] if link["rel"] == "item"]
    assert hrefs == [f"./2023-03-{d}/item.json" for d in ("01", "06", "11", "16", "21")]
    assert collection["extent"]["temporal"]["interval"] == [
        ["2023-03-01T15:00:00Z", "2023-03-21T15:00:00Z"]
    ]
    assert collection["extent"]["spatial"]["bbox"] == [[-1, -1, 0.1, 0.1]]


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


def test_a_rerun_removes_a_killed_uploads_leftovers(root: str, tmp_path: Path) -> None:
    archive = Archive(root)
    folder = archive.url("alpha", "2023-03-01")
    archive.fs.makedirs(folder, exist_ok=True)
    for name in ("landslides.tif.part-0123456789ab", "summary.json.part-ba9876543210"):
        archive.fs.pipe_file(f"{folder}/{name}", b"half an upload")  # a kill -9 mid-upload
    archive.fs.makedirs(archive.url("beta", "2023-03-01"), exist_ok=True)
    archive.fs.pipe_file(archive.url("beta", "2023-03-01", "x.part-0123456789ab"), b"other")
    _store(archive, tmp_path, "alpha", "2023-03-01")  # the run of that date, again
    left = [p.rsplit("/", 1)[-1] for p in archive.fs.find(archive.root) if ".part-" in p]
    assert left == ["x.part-0123456789ab"]  # another date's folder is not this run's
