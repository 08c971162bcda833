"""Files of the archive, and only of the archive, on a local disk or any fsspec filesystem.

No route takes a path from a client: routes look a run up in the registry, the registry gives
the product's path, and :meth:`ArchiveRoot.admit` admits it only when its real location lies
inside the archive root (:func:`inside_archive` on a local disk, symlinks followed;
:func:`inside_remote` on ``s3://``, ``memory://`` …, where the path is normalised and must name
a file under the root). Anything else is "not found", before any byte is read.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec

from slidewatch.service.problems import NotFound

MISSING = "no such product in the archive; list the run's products with GET /runs/{id}"


def inside_archive(root: Path, stored: str | Path) -> Path:
    """The real path of the archived file ``stored`` (relative to ``root`` or absolute).

    Raises :class:`NotFound` for '..' components, NUL bytes, paths (or symlink targets) outside
    ``root``, and anything that is not a regular file.
    """
    text = str(stored)
    if not text or "\x00" in text or ".." in PurePosixPath(text.replace("\\", "/")).parts:
        raise NotFound(
            "no such product in the archive; list the run's products with GET /runs/{id}"
        )
    real_root = root.resolve()
    candidate = Path(text) if Path(text).is_absolute() else real_root / text
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise NotFound(MISSING) from None
    if not real.is_relative_to(real_root) or not real.is_file():
        raise NotFound(
            "no such product in the archive; list the run's products with GET /runs/{id}"
        )
    return real


def writable(root: Path) -> bool:
    """Whether a file can be created in ``root`` (created if missing) right now."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".slidewatch-health"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    return True


def inside_remote(fs: Any, root: str, stored: str) -> str:
    """The path (in ``fs``) of the archived file ``stored`` (a URL of ``fs``'s protocol, or a
    path relative to ``root``); :class:`NotFound` for '..', NUL bytes, other protocols,
    paths outside ``root`` and anything that is not a file."""
    return _remote_file(fs, root, stored)[0]


def _protocols(fs: Any) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)


def _remote_file(fs: Any, root: str, stored: str) -> tuple[str, dict[str, Any]]:
    """:func:`inside_remote`'s path and the file's ``fs.info`` (one request, not two)."""
    text = str(stored)
    if not text or "\x00" in text or ".." in PurePosixPath(text.replace("\\", "/")).parts:
        raise NotFound(MISSING)
    if "://" in text:
        if text.split("://", 1)[0] not in _protocols(fs):
            raise NotFound(MISSING)
        path = fs._strip_protocol(text)
    elif text.startswith("/") and not root.startswith("/"):
        raise NotFound(MISSING)  # an absolute local path is no object of this filesystem
    else:
        path = text if text.startswith("/") else f"{root}/{text}"
    path = posixpath.normpath(path)
    if not path.startswith(root.rstrip("/") + "/"):
        raise NotFound(MISSING)
    try:
        info = fs.info(path)
    except (OSError, ValueError):  # missing (FileNotFoundError) or refused by the backend
        raise NotFound(MISSING) from None
    if info.get("type") != "file":
        raise NotFound(MISSING)
    return str(path), info


@dataclass(frozen=True)
class Product:
    """An admitted archive file: its path (local, or in ``fs``) and a version that changes
    when the file does (caches of footprints and stretches are keyed by it)."""

    path: str
    version: str
    fs: Any = field(default=None, compare=False, hash=False)
    """The fsspec filesystem holding ``path``; None for a local file."""

    def open(self) -> Any:
        """The file as a rasterio dataset (through ``fs.open`` when not local)."""
        import rasterio

        if self.fs is None:
            return rasterio.open(self.path)
        return rasterio.open(self.path, opener=self.fs)


class ArchiveRoot:
    """The archive a server reads: a local folder (``local``) or an fsspec URL."""

    def __init__(self, storage: str) -> None:
        self.url = storage
        self.fs, path = fsspec.core.url_to_fs(storage)
        self.local: Path | None = None
        if {"file", "local"} & set(_protocols(self.fs)):
            self.local = Path(path).expanduser()
            self.local.mkdir(parents=True, exist_ok=True)
            self.local = self.local.resolve()
            self.url = str(self.local)
        self.root = str(self.local) if self.local else posixpath.normpath(path)

    def admit(self, stored: str | Path) -> Product:
        """The product ``stored`` (as the registry names it) if it lies inside the archive."""
        if self.local is not None:
            real = inside_archive(self.local, stored)
            return Product(str(real), str(real.stat().st_mtime_ns))
        path, info = _remote_file(self.fs, self.root, str(stored))
        stamp = info.get("mtime") or info.get("LastModified") or info.get("created") or ""
        version = f"{info.get('ETag') or stamp}:{info.get('size')}"
        return Product(path, version, self.fs)

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
