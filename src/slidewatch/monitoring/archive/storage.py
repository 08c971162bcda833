"""The archive: every run's products under one root, ``<root>/<aoi>/<acquisition date>/<file>``,
on any fsspec filesystem (a local folder, ``memory://``, ``s3://``, ``gs://``), with a STAC
catalogue of the whole archive (``catalog.json`` → one collection per AOI → one item per
run, :mod:`.catalogue`) that titiler, QGIS or any STAC browser opens. One class writes it
(the look) and reads it (the look's previous run, the history, the service's tiles and
products, which open only what :meth:`Archive.admit` admits).

Files are uploaded under a temporary name of their own (``NAME.part-<random>``, so two
processes writing the same file never share one) and moved into place, and the run's STAC
item is written last, so a reader never sees half a product. Collections are rebuilt from
a listing; the root catalogue too, when it does not yet link the AOI (listing every AOI on
every run would cost O(AOIs) per run), and a writer lists again after writing and rewrites
when the listing changed meanwhile, so it converges whichever process writes last.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fsspec

from slidewatch.errors import ConfigError
from slidewatch.monitoring.archive import catalogue
from slidewatch.monitoring.archive.admission import (
    Product,
    inside_archive,
    protocols,
    remote_file,
    writable,
)
from slidewatch.monitoring.archive.catalogue import ITEM_FILE, to_json

PART_SUFFIX = ".part"
CATALOGUE_ATTEMPTS = 5


def filesystem(root: str) -> tuple[Any, str, Path | None]:
    """The fsspec filesystem of an archive root, the root as its path, and the root's
    absolute folder when it is local (None otherwise): the one rule that says where an
    archive is. ConfigError for an unknown protocol or a backend not installed."""
    try:
        fs, path = fsspec.core.url_to_fs(root)
    except (ImportError, ValueError) as exc:
        raise ConfigError(
            f"storage {root!r} cannot be opened ({exc}); give a local folder or an fsspec "
            "URL whose package is installed (s3fs for s3://, gcsfs for gs://)"
        ) from exc
    local = Path(path).expanduser().resolve() if {"file", "local"} & set(protocols(fs)) else None
    return fs, path, local


class Archive:
    """Products of every run under one root URL (a local root is created if missing)."""

    def __init__(self, root: str) -> None:
        self.fs, path, self.local = filesystem(root)
        """``local``: the root's real path when the archive is a local folder, else None."""
        self.protocol = protocols(self.fs)[0]
        if self.local is not None:
            self.local.mkdir(parents=True, exist_ok=True)
            self.local = self.local.resolve()
        self.root = str(self.local) if self.local is not None else posixpath.normpath(path)
        """The root as a path of ``fs``."""

    def url(self, *parts: str) -> str:
        """The URL of a path under the root (what runs record as product links); without
        ``parts``, the root's own (what other processes open this archive with)."""
        path = "/".join([self.root, *parts])
        return path if self.local is not None else f"{self.protocol}://{path.lstrip('/')}"

    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    # Reading ------------------------------------------------------------------------
    def admit(self, stored: str | Path) -> Product:
        """The product ``stored`` (as the registry names it) if it lies inside the archive;
        :class:`~slidewatch.monitoring.archive.admission.ProductNotFound` otherwise."""
        if self.local is not None:
            real = inside_archive(self.local, stored)
            return Product(str(real), str(real.stat().st_mtime_ns))
        path, info = remote_file(self.fs, self.root, str(stored))
        stamp = info.get("mtime") or info.get("LastModified") or info.get("created") or ""
        version = f"{info.get('ETag') or stamp}:{info.get('size')}"
        return Product(path, version, self.fs)

    def read_bytes(self, url: str) -> bytes:
        """The bytes of a product by its URL (as the registry names it)."""
        with fsspec.open(url, "rb") as f:
            return bytes(f.read())

    def writable(self) -> bool:
        """Whether a file can be created in the archive right now."""
        if self.local is not None:
            return writable(self.local)
        probe = f"{self.root}/.slidewatch-health"
        try:
            self.fs.pipe_file(probe, b"")
            self.fs.rm_file(probe)
        except (OSError, ValueError):
            return False
        return True

    # Writing ------------------------------------------------------------------------
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
        if move and self.local is not None:
            shutil.move(local, tmp)  # the parent exists: store_run made it
        else:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.put_file(str(local), tmp)
        self.fs.mv(tmp, path)
        return self.url(*parts)

    def store_run(
        self, aoi: str, date: str, files: Mapping[str, Path], item: dict[str, Any],
        move: bool = False,
    ) -> dict[str, str]:  # fmt: skip
        """Upload ``files`` (name -> local path; ``move``: the caller discards them) under
        ``<aoi>/<date>/``, then the STAC item, then refresh the AOI's collection and the root
        catalogue; return name -> URL."""
        self.fs.makedirs(self._path(aoi, date), exist_ok=True)
        self.remove_parts(aoi, date)  # a killed upload's leftovers (the run owns this date)
        urls = {
            name: self.put_file(path, aoi, date, name, move=move)
            for name, path in sorted(files.items())
        }
        item = {**item, "assets": catalogue.assets(files), "links": catalogue.item_links()}
        urls["stac_item"] = self.write_bytes(to_json(item), aoi, date, ITEM_FILE)
        self.refresh_catalogue(aoi, {date: item})
        return urls

    def remove_parts(self, aoi: str, date: str) -> list[str]:
        """Delete the temporary uploads (``NAME.part-…``) a killed run left under
        ``<aoi>/<date>/``; the run storing that date calls it first."""
        found = [str(p) for p in self.fs.glob(self._path(aoi, date, f"*{PART_SUFFIX}-*"))]
        for path in found:
            self.fs.rm_file(path)
        return found

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
            linked = set() if previous is None else catalogue.linked_dates(previous)
            have = stored or {}
            new = [have.get(d) or self._item(aoi, d) for d in dates if d not in linked]
            collection = catalogue.collection(aoi, dates, new, previous)
            self.write_bytes(to_json(collection), aoi, "collection.json")
        if self._catalogue_links(aoi):
            return  # the root already lists this AOI: listing every AOI again costs O(AOIs)
        written: list[str] | None = None
        for _ in range(CATALOGUE_ATTEMPTS):
            aois = self._collections()
            if aois == written:  # nobody added a collection while this one was written
                return
            self.write_bytes(to_json(catalogue.catalog(aois)), "catalog.json")
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
