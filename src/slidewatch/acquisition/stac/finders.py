"""Finding items: one query value with the one filter, and the static catalogue's finder.

Both finders — a static catalogue walked with pystac (:class:`StaticFinder`) and a STAC API
searched with pystac-client (:class:`~slidewatch.acquisition.stac.api.ApiFinder`) — parse
each item once (:func:`~slidewatch.acquisition.stac.items.parse_item`) and keep those
:meth:`ItemQuery.matches` accepts: a static catalogue cannot be searched, and an API that
ignores a parameter (``eo:cloud_cover`` is no search parameter) is filtered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from slidewatch.acquisition.stac.items import ParsedItem, parse_item
from slidewatch.errors import SourceError

if TYPE_CHECKING:
    from slidewatch.acquisition.aoi import AOI


@dataclass(frozen=True)
class ItemQuery:
    """What a search asks of a catalogue."""

    collection: str
    """Collection id."""
    aoi: AOI
    """Items must intersect it."""
    dates: tuple[datetime, datetime] | None = None
    """Inclusive UTC range the item's ``datetime`` must fall in; None: any time."""
    max_cloud: float | None = None
    """Largest ``eo:cloud_cover`` (%); items that state none pass. None: no limit."""

    def matches(self, item: ParsedItem) -> bool:
        """The one filter every finder applies."""
        if item.collection != self.collection:
            return False
        if item.footprint is None or not item.footprint.intersects(self.aoi.geometry):
            return False
        if self.dates is not None and (
            item.datetime is None or not self.dates[0] <= item.datetime <= self.dates[1]
        ):
            return False
        cover = item.cloud_cover
        return self.max_cloud is None or cover is None or float(cover) <= self.max_cloud

    def search_parameters(self) -> dict[str, Any]:
        """The query as pystac-client search parameters (the cloud limit is applied locally)."""
        search: dict[str, Any] = {
            "collections": [self.collection],
            "intersects": self.aoi.to_geojson(),
        }
        if self.dates is not None:
            search["datetime"] = [self.dates[0].isoformat(), self.dates[1].isoformat()]
        return search


class ItemFinder(Protocol):
    """Finds the items of a catalogue that a query matches."""

    def items(self, query: ItemQuery) -> list[ParsedItem]:
        """The parsed items ``query`` matches."""
        ...


def is_static(url: str) -> bool:
    """Whether ``url`` names a static catalogue (a ``.json`` file) rather than a STAC API."""
    return url.startswith("file://") or url.endswith(".json") or Path(url).exists()


class StaticFinder:
    """Items of a static catalogue (``catalog.json``), walked once and filtered locally; walked
    again when the catalogue changed (:func:`catalogue_stamp`), so that a finder kept for the
    process sees what its publisher adds."""

    def __init__(self, url: str) -> None:
        self.path = url.removeprefix("file://")
        self._all: list[ParsedItem] = []
        self._stamp: tuple[tuple[str, int, int], ...] = ()

    def _open(self) -> Any:
        import pystac

        try:
            return pystac.Catalog.from_file(self.path)
        except FileNotFoundError as exc:
            raise SourceError(f"{self.path}: no such STAC catalogue; check --stac-url") from exc
        except Exception as exc:  # pystac raises several types for unreadable JSON
            raise SourceError(
                f"{self.path}: not a readable STAC catalogue ({exc}); check it"
            ) from exc

    def items(self, query: ItemQuery) -> list[ParsedItem]:
        stamp = catalogue_stamp(self.path)
        if not stamp or stamp != self._stamp:  # unreadable: the walk says why
            catalog = self._open()
            self._all = [parse_item(item) for item in catalog.get_items(recursive=True)]
            self._stamp = stamp
        return [item for item in self._all if query.matches(item)]

    def first_item(self, collection: str) -> ParsedItem | None:
        """The first item of ``collection`` without walking the catalogue; None when the
        catalogue or the collection cannot be read."""
        try:
            child = self._open().get_child(collection)
            first = None if child is None else next(iter(child.get_items(recursive=True)), None)
        except Exception:  # unreadable: the first search says so with the full reason
            return None
        return None if first is None else parse_item(first)


def catalogue_stamp(path: str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of a static catalogue and of every catalogue or collection it
    links as a child: adding an item rewrites its parent's links, so changes the stamp.
    Empty when the root cannot be read."""
    import json

    out: list[tuple[str, int, int]] = []
    todo, seen = [Path(path).resolve()], set()
    while todo:
        current = todo.pop()
        if current in seen:  # a catalogue linking back to itself
            continue
        seen.add(current)
        try:
            st = current.stat()
            links = json.loads(current.read_text()).get("links", [])
        except (OSError, ValueError):
            return ()
        out.append((str(current), st.st_mtime_ns, st.st_size))
        todo += [
            (current.parent / link["href"]).resolve()
            for link in links
            if link.get("rel") == "child" and "://" not in str(link.get("href", ""))
        ]
    return tuple(out)
