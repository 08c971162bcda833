"""What each Landslide4Sense file must be (size, checksum) and who says so: the manifest
in :mod:`slidewatch.data.l4s_download` when it states them, else the source's own listing
(Zenodo's files API: md5; the Hugging Face tree API: the LFS sha256), read page by page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slidewatch.data.http_download import Expected, get_json
from slidewatch.errors import SourceError

if TYPE_CHECKING:
    from slidewatch.data.l4s_download import L4SSource, RemoteFile


def _entries(payload: Any) -> list[dict[str, Any]]:
    """File entries of a Zenodo files listing (InvenioRDM ``entries`` or legacy ``files``)
    or of a Hugging Face tree page (a list)."""
    if isinstance(payload, list):
        return [e for e in payload if isinstance(e, dict)]
    if isinstance(payload, dict):
        for key in ("entries", "files"):
            found = payload.get(key)
            if isinstance(found, dict) and "entries" in found:
                found = found["entries"]
            if isinstance(found, dict):
                found = list(found.values())
            if isinstance(found, list):
                return [e for e in found if isinstance(e, dict)]
    return []


def _expected_of(entry: dict[str, Any]) -> tuple[str, Expected] | None:
    path = entry.get("key") or entry.get("path")
    if not isinstance(path, str):
        return None
    found = entry.get("lfs")
    lfs: dict[str, Any] = found if isinstance(found, dict) else {}
    checksum = entry.get("checksum") or (f"sha256:{lfs['oid']}" if lfs.get("oid") else None)
    size = lfs.get("size", entry.get("size"))
    return path, Expected(int(size) if size is not None else None, checksum)


def listing(source: L4SSource, api_url: str, splits: Sequence[str]) -> dict[str, Expected]:
    """Path -> size and checksum, as the source's listing states them (every page)."""
    urls = [api_url] if source.layout == "official" else [
        f"{api_url}/{folder}/{split}" for split in splits for folder in ("images", "annotations")
    ]  # fmt: skip
    out: dict[str, Expected] = {}
    for url in urls:
        next_url: str | None = url
        while next_url:
            payload, next_url = get_json(next_url)
            for entry in _entries(payload):
                found = _expected_of(entry)
                if found is not None:
                    out[found[0]] = found[1]
    return out


def expectations(
    files: Sequence[RemoteFile],
    source: L4SSource,
    api_url: str,
    splits: Sequence[str],
    allow_unverified: bool,
) -> list[tuple[RemoteFile, Expected, str]]:
    """Each file with what it must be and what says so (``manifest``, ``listing`` or
    ``unverified``); SourceError when a checksum is unknown and not allowed to be."""
    listed: dict[str, Expected] = {}
    if any(f.checksum is None or f.size is None for f in files):
        try:
            listed = listing(source, api_url, splits)
        except SourceError as exc:
            if not allow_unverified:
                raise SourceError(
                    f"{exc}. The sizes and checksums of these files come from that listing; "
                    "point --api-url at it, or pass --allow-unverified to take the files unchecked"
                ) from None
    out = []
    for f in files:
        known = listed.get(f.path, Expected())
        expected = Expected(
            f.size if f.size is not None else known.size, f.checksum or known.checksum
        )
        by = "manifest" if f.checksum else "listing" if known.checksum else "unverified"
        if by == "unverified" and not allow_unverified:
            raise SourceError(
                f"no checksum for {f.path}: neither the manifest nor the listing ({api_url}) "
                "states one; pass --allow-unverified to take it unchecked"
            )
        out.append((f, expected, by))
    return out
