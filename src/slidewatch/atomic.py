"""Atomic output files: written under a temporary name in the same folder, then renamed.

A crash or an error never leaves a partial file under the final name. Temporary files get
the usual permissions (``0666 & ~umask``) rather than ``mkstemp``'s private ``0600``.
Writers whose library picks the format from the file name pass a ``suffix`` (``".tif"``,
``".png"``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def temporary_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty file in ``path``'s folder, with ordinary permissions; caller renames it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    return Path(tmp)


@contextmanager
def atomic_output(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``path``, on error delete it."""
    tmp = temporary_beside(Path(path), suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str, suffix: str = ".tmp") -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename; return it."""
    with atomic_output(Path(path), suffix) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
