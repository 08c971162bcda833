"""Who labeled what: the annotation log, patch states and versions, and conflict-safe saving.

Everything lives in ``DATA_DIR/.slidewatch-labels/`` beside the patches:

- ``log.jsonl``: one JSON object per action (``save``, ``draft``, ``skip``, ``reopen``,
  ``conflict``), with
  the annotator, UTC time, seconds spent, whether the mask started from the model's
  suggestion and the fraction of pixels changed from it. It is the single source of truth:
  a patch's state and version are folded from it (:func:`fold_states`).
- ``drafts/``: masks saved as "in progress" (kept out of the dataset layout so that
  ``data check`` and training only see finished masks).
- ``conflicts/``: masks refused because someone saved the patch first.
- ``history/``: masks replaced by a later save.

Saving is optimistic concurrency: a client sends the version it started from; when the
patch has moved on since, nothing is overwritten: the client's mask is kept under
``conflicts/`` and :class:`VersionConflict` says who saved the current version. Checks and
writes happen under a lock file, so several server processes on one folder are safe.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from slidewatch.data.hdf5 import write_mask
from slidewatch.errors import DatasetError, SlidewatchError

LABEL_DIR = ".slidewatch-labels"
LOG_NAME = "log.jsonl"
STATES = ("unlabeled", "in_progress", "done", "skipped")
"""Patch states: no mask yet, a draft saved, a finished mask, skipped by an annotator."""
STATE_OF_ACTION = {
    "save": "done", "draft": "in_progress", "skip": "skipped", "reopen": "in_progress",
}  # fmt: skip
"""Actions that make a new version, and the state each leaves the patch in (``reopen``: a
done patch back in progress for review; its mask stays in the dataset until saved again)."""


@dataclass(frozen=True)
class LogEntry:
    """One line of the annotation log."""

    patch: str
    """Patch key (image path relative to the dataset folder, without ``.h5``)."""
    action: str
    """``save``, ``draft``, ``skip``, ``reopen`` or ``conflict`` (refused save)."""
    version: int
    """The patch's version after this action (for ``conflict``: the version that won)."""
    annotator: str
    time: str
    """UTC, ISO 8601."""
    seconds: float | None = None
    """Seconds the annotator spent on the patch before this action (as the page measured)."""
    from_suggestion: bool = False
    """Whether the mask started from the model's suggestion."""
    fraction_changed: float | None = None
    """Fraction of pixels that differ from the suggestion (None without one)."""
    landslide_pixels: int | None = None
    file: str | None = None
    """The mask written (or kept, for a conflict), relative to the dataset folder."""
    base_version: int | None = None
    """The version the annotator started from."""


@dataclass(frozen=True)
class PatchState:
    """Where one patch stands, folded from the log."""

    state: str
    version: int = 0
    annotator: str | None = None
    time: str | None = None
    file: str | None = None


class VersionConflict(SlidewatchError, ValueError):
    """A save started from a version that is no longer the current one."""

    def __init__(self, message: str, current: PatchState, kept: str) -> None:
        super().__init__(message)
        self.current = current
        self.kept = kept


def fold_states(entries: Iterable[LogEntry]) -> dict[str, PatchState]:
    """The state of every patch that has a versioned action in ``entries`` (in log order)."""
    states: dict[str, PatchState] = {}
    for e in entries:
        if e.action in STATE_OF_ACTION:
            states[e.patch] = PatchState(
                STATE_OF_ACTION[e.action], e.version, e.annotator, e.time, e.file
            )
    return states


def read_log(path: Path) -> list[LogEntry]:
    """Entries of a ``log.jsonl`` file (empty when absent); DatasetError naming a bad line."""
    if not path.is_file():
        return []
    entries = []
    fields = set(LogEntry.__dataclass_fields__)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            entries.append(LogEntry(**{k: v for k, v in record.items() if k in fields}))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DatasetError(
                f"{path}:{number}: not a log entry ({exc}); fix or remove that line"
            ) from None
    return entries


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def safe_name(text: str) -> str:
    """``text`` reduced to letters, digits, ``-``, ``_`` and ``.`` (for file names)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "x"


class LabelStore:
    """The label folder of one dataset: log, drafts, conflicts, history."""

    _locks: ClassVar[dict[Path, threading.Lock]] = {}

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder = self.root / LABEL_DIR
        self.log_path = self.folder / LOG_NAME
        self._thread_lock = self._locks.setdefault(self.folder.resolve(), threading.Lock())

    def entries(self) -> list[LogEntry]:
        """Every log entry, oldest first."""
        return read_log(self.log_path)

    def states(self) -> dict[str, PatchState]:
        """Patch key -> state, for patches that were saved, drafted or skipped."""
        return fold_states(self.entries())

    def draft_path(self, key: str) -> Path:
        """Where the draft mask of ``key`` is kept."""
        return self.folder / "drafts" / f"{safe_name(key.replace('/', '__'))}.h5"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock: one writer at a time, across threads and processes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.folder / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _append(self, entry: LogEntry) -> None:
        line = json.dumps({k: v for k, v in asdict(entry).items() if v is not None}) + "\n"
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def commit(
        self,
        key: str,
        action: str,
        base_version: int,
        mask: np.ndarray | None,
        mask_path: Path,
        details: dict[str, Any],
    ) -> LogEntry:
        """Record ``action`` on patch ``key`` if ``base_version`` is current, else keep the
        mask under ``conflicts/`` and raise :class:`VersionConflict`.

        ``save`` writes ``mask`` to ``mask_path`` (the dataset layout; an older mask there is
        moved to ``history/``), ``draft`` to the drafts folder, ``skip`` and ``reopen`` write
        nothing.
        ``details``: annotator, seconds, from_suggestion, fraction_changed.
        """
        if action not in STATE_OF_ACTION:
            raise DatasetError(f"unknown action {action!r}; valid: {', '.join(STATE_OF_ACTION)}")
        with self.locked():
            current = self.states().get(key, PatchState("unlabeled"))
            if base_version != current.version:
                self._refuse(key, base_version, mask, current, details)
            target = self._write(key, action, mask, mask_path, current.version)
            entry = LogEntry(
                patch=key,
                action=action,
                version=current.version + 1,
                time=now_utc(),
                landslide_pixels=None if mask is None else int(mask.sum()),
                file=None if target is None else self._relative(target),
                base_version=base_version,
                **details,
            )
            self._append(entry)
            return entry

    def _write(
        self, key: str, action: str, mask: np.ndarray | None, mask_path: Path, version: int
    ) -> Path | None:
        if action == "skip" or mask is None:
            return None
        if action == "draft":
            write_mask(self.draft_path(key), mask)
            return self.draft_path(key)
        if mask_path.is_file():
            old = self.folder / "history" / f"{safe_name(key.replace('/', '__'))}-v{version}.h5"
            old.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(mask_path, old)
        write_mask(mask_path, mask)
        self.draft_path(key).unlink(missing_ok=True)
        return mask_path

    def _refuse(
        self,
        key: str,
        base_version: int,
        mask: np.ndarray | None,
        current: PatchState,
        details: dict[str, Any],
    ) -> None:
        who = safe_name(str(details.get("annotator") or "anonymous"))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kept = self.folder / "conflicts" / f"{safe_name(key.replace('/', '__'))}-from-v"
        kept = kept.with_name(f"{kept.name}{base_version}-{who}-{stamp}.h5")
        if mask is not None:
            write_mask(kept, mask)
        entry = LogEntry(
            patch=key,
            action="conflict",
            version=current.version,
            time=now_utc(),
            file=self._relative(kept) if mask is not None else None,
            base_version=base_version,
            landslide_pixels=None if mask is None else int(mask.sum()),
            **details,
        )
        self._append(entry)
        raise VersionConflict(
            f"patch {key} was saved by {current.annotator or 'someone'} at {current.time} "
            f"(version {current.version}) after you opened version {base_version}; your mask is "
            f"kept as {entry.file or 'nothing (no mask sent)'}; reload the patch, compare, and "
            "save again from the current version",
            current,
            entry.file or "",
        )
