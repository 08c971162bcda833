"""Which files of the archive a reader may open: only those the registry names, inside the
archive root, on a local disk or any fsspec filesystem.

No caller passes a path from a client: the service looks a run up in the registry, the
registry gives the product's path, and :meth:`Archive.admit
<slidewatch.monitoring.archive.storage.Archive.admit>` admits it only when its real location
lies inside the archive root (:func:`inside_archive` on a local disk, symlinks followed;
:func:`inside_remote` on ``s3://``, ``memory://`` …, where the path is normalised and must
name a file under the root). Anything else is :class:`ProductNotFound`, before any byte is
read.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from slidewatch.errors import RegistryError

MISSING = "no such product in the archive; list the run's products with GET /runs/{id}"


class ProductNotFound(RegistryError):
    """A file that is not an archived product: missing, outside the archive root, not a
    regular file, or named with '..' or a NUL byte (a ``KeyError``: the service's 404)."""


def inside_archive(root: Path, stored: str | Path) -> Path:
    """The real path of the archived file ``stored`` (relative to ``root`` or absolute).

    Raises :class:`ProductNotFound` for '..' components, NUL bytes, paths (or symlink
    targets) outside ``root``, and anything that is not a regular file.
    """
    text = str(stored)
    if not text or "\x00" in text or ".." in PurePosixPath(text.replace("\\", "/")).parts:
        raise ProductNotFound(MISSING)
    real_root = root.resolve()
    candidate = Path(text) if Path(text).is_absolute() else real_root / text
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise ProductNotFound(MISSING) from None
    if not real.is_relative_to(real_root) or not real.is_file():
        raise ProductNotFound(MISSING)
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
    path relative to ``root``); :class:`ProductNotFound` for '..', NUL bytes, other
    protocols, paths outside ``root`` and anything that is not a file."""
    return remote_file(fs, root, stored)[0]


def protocols(fs: Any) -> tuple[str, ...]:
    """The protocol names of an fsspec filesystem (``("file", "local")`` for a local one)."""
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)


def remote_file(fs: Any, root: str, stored: str) -> tuple[str, dict[str, Any]]:
    """:func:`inside_remote`'s path and the file's ``fs.info`` (one request, not two)."""
    text = str(stored)
    if not text or "\x00" in text or ".." in PurePosixPath(text.replace("\\", "/")).parts:
        raise ProductNotFound(MISSING)
    if "://" in text:
        if text.split("://", 1)[0] not in protocols(fs):
            raise ProductNotFound(MISSING)
        path = fs._strip_protocol(text)
    elif text.startswith("/") and not root.startswith("/"):
        raise ProductNotFound(MISSING)  # an absolute local path is no object of this filesystem
    else:
        path = text if text.startswith("/") else f"{root}/{text}"
    path = posixpath.normpath(path)
    if not path.startswith(root.rstrip("/") + "/"):
        raise ProductNotFound(MISSING)
    try:
        info = fs.info(path)
    except (OSError, ValueError):  # missing (FileNotFoundError) or refused by the backend
        raise ProductNotFound(MISSING) from None
    if info.get("type") != "file":
        raise ProductNotFound(MISSING)
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
