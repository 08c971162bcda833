"""Files of the archive, and only of the archive.

No route takes a path from a client: routes look a run up in the registry, the registry gives
the product's path, and :func:`inside_archive` admits it only when its real location (symlinks
followed) lies inside the archive root. Anything else is "not found", before any byte is read.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

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
