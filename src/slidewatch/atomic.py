"""Atomic output files and folders: written under a temporary name in the same folder, then
renamed.

A crash or an error never leaves a partial file under the final name. Temporary files get
the usual permissions (``0666 & ~umask``) rather than ``mkstemp``'s private ``0600``.
Writers whose library picks the format from the file name pass a ``suffix`` (``".tif"``,
``".png"``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
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


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporaries a killed writer of ``path`` left beside it (the names
    :func:`temporary_beside` makes, ``.NAME.XXXXXXXX…``); a rerun calls this first. There is
    one writer per output (two writers of one file would replace each other's anyway)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}")
    removed = []
    for found in path.parent.iterdir():
        if pattern.match(found.name) and found.is_file():
            found.unlink(missing_ok=True)
            removed.append(found)
    return removed


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


@contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a new, empty folder beside ``out`` (``OUT.tmp-*``, ordinary permissions); on
    success it replaces ``out`` (an old ``out`` is moved aside first, then removed), on error
    it is removed and ``out`` is untouched."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f"{out.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()  # not mkdtemp: the published folder gets the usual (umask) permissions
    try:
        yield tmp
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
