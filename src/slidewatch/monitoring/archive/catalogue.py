"""The archive's STAC catalogue as plain JSON documents: an item per run, a collection per
AOI, the root catalogue (titiler, QGIS, pystac and any STAC browser open them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

MEDIA_TYPES = {
    ".tif": "image/tiff; application=geotiff; profile=cloud-optimized",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".png": "image/png",
}
ROLES = {".tif": ["data"], ".geojson": ["data"], ".json": ["metadata"], ".png": ["overview"]}
ITEM_FILE = "item.json"
STAC_VERSION = "1.0.0"


def to_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True).encode()


def assets(files: Mapping[str, Path]) -> dict[str, Any]:
    out = {}
    for name in sorted(files):
        suffix = Path(name).suffix
        out[Path(name).stem if suffix != ".geojson" else name.replace(".", "_")] = {
            "href": f"./{name}",
            "type": MEDIA_TYPES.get(suffix, "application/octet-stream"),
            "roles": ROLES.get(suffix, ["data"]),
        }
    return out


def item_links() -> list[dict[str, str]]:
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


def linked_dates(collection: dict[str, Any]) -> set[str]:
    """The dates whose items a collection links (``./<date>/item.json``)."""
    return {
        str(link.get("href", "")).removeprefix("./").split("/", 1)[0]
        for link in collection.get("links", [])
        if link.get("rel") == "item"
    }


def collection(
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


def catalog(aois: list[str]) -> dict[str, Any]:
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
