"""The archive of products: ``<storage>/<aoi>/<acquisition date>/<file>`` on any fsspec
filesystem (a local folder, ``memory://``, ``s3://``, ``gs://``), with a STAC catalogue of
the whole archive (``catalog.json`` → one collection per AOI → one item per run) that
titiler, QGIS or any STAC browser opens.

Files are uploaded under a temporary name of their own (``NAME.part-<random>``, so two
processes writing the same file never share one) and moved into place, and the run's STAC
item is written last, so a reader never sees half a product. Collections are rebuilt from
a listing; the root catalogue too, when it does not yet link the AOI (listing every AOI on
every run would cost O(AOIs) per run), and a writer lists again after writing and rewrites
when the listing changed meanwhile, so it converges whichever process writes last.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import fsspec

MEDIA_TYPES = {
    ".tif": "image/tiff; application=geotiff; profile=cloud-optimized",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".png": "image/png",
}
ROLES = {".tif": ["data"], ".geojson": ["data"], ".json": ["metadata"], ".png": ["overview"]}
ITEM_FILE = "item.json"
PART_SUFFIX = ".part"
STAC_VERSION = "1.0.0"
CATALOGUE_ATTEMPTS = 5


class Archive:
    """Products of every run under one root URL."""

    def __init__(self, root: str) -> None:
        self.fs, path = fsspec.core.url_to_fs(root)
        self.root = path.rstrip("/")
        self.protocol = (
            self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        )

    def url(self, *parts: str) -> str:
        """A full URL of a path under the root (what runs record as product links)."""
        path = "/".join([self.root, *parts])
        return (
            path if self.protocol in ("file", "local") else f"{self.protocol}://{path.lstrip('/')}"
        )

    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def write_bytes(self, data: bytes, *parts: str) -> str:
        """Write through a temporary name and a move; return the URL."""
        path = self._path(*parts)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        tmp = _part_name(path)
        with self.fs.open(tmp, "wb") as f:
            f.write(data)
        self.fs.mv(tmp, path)
        return self.url(*parts)

    def put_file(self, local: Path, *parts: str, move: bool = False) -> str:
        """Upload ``local`` (with ``move``: a file the caller no longer needs, which on a
        local archive is renamed rather than copied) through a temporary name; return the URL."""
        path = self._path(*parts)
        tmp = _part_name(path)
        if move and self.protocol in ("file", "local"):
            shutil.move(local, tmp)  # the parent exists: store_run made it
        else:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.put_file(str(local), tmp)
        self.fs.mv(tmp, path)
        return self.url(*parts)

    def read_bytes(self, url_or_parts: str) -> bytes:
        with fsspec.open(url_or_parts, "rb") as f:
            return bytes(f.read())

    def store_run(
        self, aoi: str, date: str, files: Mapping[str, Path], item: dict[str, Any],
        move: bool = False,
    ) -> dict[str, str]:  # fmt: skip
        """Upload ``files`` (name -> local path; ``move``: the caller discards them) under
        ``<aoi>/<date>/``, then the STAC item, then refresh the AOI's collection and the root
        catalogue; return name -> URL."""
        self.fs.makedirs(self._path(aoi, date), exist_ok=True)
        urls = {
            name: self.put_file(path, aoi, date, name, move=move)
            for name, path in sorted(files.items())
        }
        item = {**item, "assets": _assets(files), "links": _item_links()}
        urls["stac_item"] = self.write_bytes(_json(item), aoi, date, ITEM_FILE)
        self.refresh_catalogue(aoi, {date: item})
        return urls

    def _children(self, *parts: str) -> list[str]:
        path = self._path(*parts)
        if not self.fs.exists(path):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(path, detail=False))

    def item_dates(self, aoi: str) -> list[str]:
        """The dates of ``aoi`` that have a STAC item (one listing, not a request per date)."""
        found = self.fs.glob(self._path(aoi, "*", ITEM_FILE))
        return sorted({str(p).rstrip("/").rsplit("/", 2)[-2] for p in found})

    def refresh_catalogue(
        self, aoi: str, stored: Mapping[str, dict[str, Any]] | None = None
    ) -> None:
        """Rewrite ``<aoi>/collection.json`` from the items stored, and ``catalog.json`` when
        it does not link the AOI yet. ``stored``: items the caller just stored, by date (not
        read back: on object storage, a request saved per run).

        The collection links every stored item (one listing). Its extent is the previous
        collection's, grown by the items it did not link yet (usually only the run's own), so
        a run reads one or two JSON files, not every item of the AOI's history (on object
        storage, a request each); an item written by a run killed before this point is
        picked up by the next refresh."""
        dates = self.item_dates(aoi)
        if dates:
            previous = self._json_or_none(aoi, "collection.json")
            linked = set() if previous is None else _linked_dates(previous)
            have = stored or {}
            new = [have.get(d) or self._item(aoi, d) for d in dates if d not in linked]
            collection = _collection(aoi, dates, new, previous)
            self.write_bytes(_json(collection), aoi, "collection.json")
        if self._catalogue_links(aoi):
            return  # the root already lists this AOI: listing every AOI again costs O(AOIs)
        written: list[str] | None = None
        for _ in range(CATALOGUE_ATTEMPTS):
            aois = self._collections()
            if aois == written:  # nobody added a collection while this one was written
                return
            self.write_bytes(_json(_catalog(aois)), "catalog.json")
            written = aois

    def _item(self, aoi: str, date: str) -> dict[str, Any]:
        return dict(json.loads(self.read_bytes(self.url(aoi, date, ITEM_FILE))))

    def _json_or_none(self, *parts: str) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.read_bytes(self.url(*parts)))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def _catalogue_links(self, aoi: str) -> bool:
        """Whether the root catalogue exists and links ``aoi``'s collection."""
        links = (self._json_or_none("catalog.json") or {}).get("links", [])
        return any(link.get("href") == f"./{aoi}/collection.json" for link in links)

    def _collections(self) -> list[str]:
        return [a for a in self._children() if self.fs.exists(self._path(a, "collection.json"))]


def _part_name(path: str) -> str:
    """A temporary name beside ``path`` that no other writer uses."""
    return f"{path}{PART_SUFFIX}-{uuid.uuid4().hex[:12]}"


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True).encode()


def _assets(files: Mapping[str, Path]) -> dict[str, Any]:
    out = {}
    for name in sorted(files):
        suffix = Path(name).suffix
        out[Path(name).stem if suffix != ".geojson" else name.replace(".", "_")] = {
            "href": f"./{name}",
            "type": MEDIA_TYPES.get(suffix, "application/octet-stream"),
            "roles": ROLES.get(suffix, ["data"]),
        }
    return out


def _item_links() -> list[dict[str, str]]:
    return [
        {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
        {"rel": "parent", "href": "../collection.json", "type": "application/json"},
        {"rel": "collection", "href": "../collection.json", "type": "application/json"},
    ]


def stac_item(
    aoi: str,
    date: str,
    when: datetime,
    geometry: dict[str, Any],
    properties: dict[str, Any],
) -> dict[str, Any]:
    """A STAC item (without assets and links, which :meth:`Archive.store_run` adds)."""
    from shapely.geometry import shape

    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": f"{aoi}-{date}",
        "collection": aoi,
        "geometry": geometry,
        "bbox": list(shape(geometry).bounds),
        "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), **properties},
    }


def _linked_dates(collection: dict[str, Any]) -> set[str]:
    """The dates whose items a collection links (``./<date>/item.json``)."""
    return {
        str(link.get("href", "")).removeprefix("./").split("/", 1)[0]
        for link in collection.get("links", [])
        if link.get("rel") == "item"
    }


def _collection(
    aoi: str, dates: list[str], items: list[dict[str, Any]], previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The collection linking the items of ``dates``: its extent covers ``items`` (those
    read now) and ``previous``'s extent (the items it already linked)."""
    boxes = [i["bbox"] for i in items]
    times = [i["properties"]["datetime"] for i in items]
    if previous is not None:
        extent = previous.get("extent", {})
        boxes += extent.get("spatial", {}).get("bbox", [])[:1]
        times += [t for t in extent.get("temporal", {}).get("interval", [[]])[0] if t]
    times.sort()
    bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes)]  # fmt: skip
    links = [
        {"rel": "root", "href": "../catalog.json", "type": "application/json"},
        {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
    ]
    links += [
        {"rel": "item", "href": f"./{d}/{ITEM_FILE}", "type": "application/geo+json"} for d in dates
    ]
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": aoi,
        "description": f"slidewatch monitoring runs of AOI {aoi}",
        "license": "other",
        "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [[times[0], times[-1]]]}},
        "links": links,
    }


def _catalog(aois: list[str]) -> dict[str, Any]:
    links = [{"rel": "root", "href": "./catalog.json", "type": "application/json"}]
    links += [
        {"rel": "child", "href": f"./{a}/collection.json", "type": "application/json"} for a in aois
    ]
    return {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "slidewatch-archive",
        "description": "Products of slidewatch monitoring, one collection per AOI",
        "links": links,
    }
