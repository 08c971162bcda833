"""Resumable HTTP downloads with size and checksum checks (standard library only).

A file is fetched into ``NAME.part`` beside its destination; an interrupted transfer leaves
the ``.part`` file, and the next call asks for the rest (an HTTP ``Range`` request; a server
that ignores it sends the whole file again, which is then written from the start). Only a
file whose size and checksum match what is expected is renamed to its final name; a
mismatch deletes the ``.part`` file (it cannot be resumed into something right) and raises
:class:`~slidewatch.errors.SourceError` naming both values. Nothing here touches the network
unless called.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from slidewatch.errors import SourceError

CHUNK_BYTES = 1 << 20
"""Bytes read and hashed at a time."""
TIMEOUT_S = 60.0
"""Seconds a connection may stay silent."""
ALGORITHMS = ("md5", "sha256")
"""Checksum algorithms a manifest or listing may name (``md5:HEX``, ``sha256:HEX``)."""
USER_AGENT = "slidewatch-download"


class Progress(Protocol):
    """What a progress bar needs (tqdm's ``update``)."""

    def update(self, n: int) -> Any: ...


@dataclass(frozen=True)
class Expected:
    """What a downloaded file must be."""

    size: int | None = None
    """Bytes, when known."""
    checksum: str | None = None
    """``md5:HEX`` or ``sha256:HEX``, when known."""


def parse_checksum(text: str) -> tuple[str, str]:
    """(algorithm, lower-case hex) of ``md5:…``/``sha256:…``; SourceError otherwise."""
    algorithm, _, digest = text.partition(":")
    if algorithm not in ALGORITHMS or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        raise SourceError(f"checksum {text!r} is not md5:HEX or sha256:HEX; fix the manifest")
    return algorithm, digest.lower()


def file_checksum(path: Path, algorithm: str) -> str:
    """Hex digest of ``path``."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _open(url: str, start: int = 0) -> Any:
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        return urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the part already holds everything
            return None
        raise SourceError(f"{url}: HTTP {exc.code} {exc.reason}; check the URL or mirror") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(
            f"{url}: cannot connect ({reason}); check the network, or point --base-url at a mirror"
        ) from None


def _transfer(url: str, part: Path, progress: Progress | None) -> None:
    """Append the missing bytes of ``url`` to ``part`` (or restart it when Range is ignored)."""
    start = part.stat().st_size if part.exists() else 0
    response = _open(url, start)
    if response is None:
        return
    with response:
        resumed = start and response.status == 206
        if start and not resumed and progress is not None:
            progress.update(-start)  # the server sends everything again
        mode = "ab" if resumed else "wb"
        with open(part, mode) as out:
            try:
                while block := response.read(CHUNK_BYTES):
                    out.write(block)
                    if progress is not None:
                        progress.update(len(block))
            except (OSError, ValueError, http.client.HTTPException) as exc:  # dropped mid-way
                raise SourceError(
                    f"{url}: the transfer broke off after {out.tell():,} bytes ({exc}); run the "
                    "same command again to resume it"
                ) from None
            out.flush()
            os.fsync(out.fileno())
        length = response.headers.get("Content-Length")
        if length is not None and part.stat().st_size < (start if resumed else 0) + int(length):
            raise SourceError(
                f"{url}: the transfer broke off after {part.stat().st_size:,} bytes; run the "
                "same command again to resume it"
            )


def download_file(
    url: str, dest: Path, expected: Expected, progress: Progress | None = None
) -> Path:
    """Fetch ``url`` to ``dest`` (resuming ``dest.part``), checked against ``expected``."""
    dest = Path(dest)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if progress is not None and part.exists():
        progress.update(part.stat().st_size)
    _transfer(url, part, progress)
    verify(part, expected, url)
    os.replace(part, dest)
    return dest


def verify(part: Path, expected: Expected, url: str) -> None:
    """SourceError (and the file removed) when ``part`` is not what ``expected`` says."""
    size = part.stat().st_size
    if expected.size is not None and size != expected.size:
        part.unlink()
        raise SourceError(
            f"{url}: got {size:,} bytes, expected {expected.size:,}; the download was removed, "
            "run again (or check the mirror)"
        )
    if expected.checksum is not None:
        algorithm, want = parse_checksum(expected.checksum)
        got = file_checksum(part, algorithm)
        if got != want:
            part.unlink()
            raise SourceError(
                f"{url}: {algorithm} checksum {got} does not match the expected {want}; the "
                "download was removed: run again, or check the mirror (--base-url)"
            )


def get_json(url: str) -> tuple[Any, str | None]:
    """The JSON at ``url`` and the ``rel="next"`` URL of its ``Link`` header (paging)."""
    response = _open(url)
    with response:
        try:
            payload = json.loads(response.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(f"{url}: not JSON ({exc}); check --api-url") from None
        link = response.headers.get("Link") or ""
    found = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
    return payload, found.group(1) if found else None
