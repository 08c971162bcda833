"""sha256 of files, read in 1 MiB chunks (a model's identity, a detection's inputs)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

CHUNK_BYTES = 1 << 20


def update_from_file(digest: Any, path: Path) -> None:
    """Feed the bytes of ``path`` to ``digest`` (a ``hashlib`` object)."""
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    update_from_file(digest, path)
    return digest.hexdigest()
