"""What the service shows of itself: never a path of the server's disk.

Routes build links with :class:`~slidewatch.monitoring.alerts.payload.Links` (URLs under the one
``public_url``); what comes from below as text (a failed run's reason, a job's message or
results, an alert's payload) passes through :func:`hide_paths` on its way out, which writes a
file under the home, archive, work, jobs or models folder relative to that folder and any other
absolute file path as its file name. API paths (``/runs/3``) are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

API_ROOTS = frozenset({
    "aois", "runs", "tiles", "alerts", "jobs", "processes", "landslides", "static", "label",
    "conformance", "health", "docs", "openapi.json",
})  # fmt: skip
"""First segments of this server's own URL paths, which are not server paths."""

_ABSOLUTE = re.compile(r"(?<![\w.:/~-])(/(?:[\w.@+~=-]+/)+[\w.@+~=-]*)")


def server_roots(layout: Any) -> tuple[str, ...]:
    """The folders of a home's layout (:class:`~slidewatch.application.settings.HomeLayout`)
    as text, longest first (a folder inside another is written relative to itself)."""
    roots = {str(layout.home), str(layout.storage), str(layout.work_dir), str(layout.jobs_dir),
             str(layout.models_dir)}  # fmt: skip
    return tuple(sorted((r.rstrip("/") for r in roots if r.startswith("/")), key=len,
                        reverse=True))  # fmt: skip


def hide_text(text: str, roots: Iterable[str] = ()) -> str:
    """``text`` with every server path replaced (see the module's description)."""
    for root in roots:
        text = text.replace(root + "/", "").replace(root, ".")
    return _ABSOLUTE.sub(_file_name, text)


def _file_name(match: re.Match[str]) -> str:
    path = match.group(1)
    first = path.lstrip("/").split("/", 1)[0]
    if first in API_ROOTS:
        return path
    return PurePosixPath(path).name or "."


def hide_paths(value: Any, roots: Iterable[str] = ()) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with :func:`hide_text` applied
    to every string, keys included."""
    roots = tuple(roots)
    if isinstance(value, str):
        return hide_text(value, roots)
    if isinstance(value, dict):
        return {hide_paths(k, roots): hide_paths(v, roots) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [hide_paths(v, roots) for v in value]
    return value
