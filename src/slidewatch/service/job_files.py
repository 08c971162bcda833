"""The files of one OGC job: ``inputs.json``, ``status.json`` (the OGC ``statusInfo``) and,
when done, ``results.json``; written atomically by the server and by the job's worker."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slidewatch.atomic import write_text_atomic

FINAL = ("successful", "failed", "dismissed")
INPUTS_FILE = "inputs.json"
STATUS_FILE = "status.json"
RESULTS_FILE = "results.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_status(job_dir: Path) -> dict[str, Any]:
    """The job's status (empty when it has none yet)."""
    path = job_dir / STATUS_FILE
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def write_status(job_dir: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the job's status file (atomically) and return the new status."""
    status = read_status(job_dir)
    status.update(changes, updated=now_iso())
    write_text_atomic(job_dir / STATUS_FILE, json.dumps(status, indent=1))
    return status


def read_inputs(job_dir: Path) -> dict[str, Any]:
    return dict(json.loads((job_dir / INPUTS_FILE).read_text()))


def write_inputs(job_dir: Path, inputs: dict[str, Any]) -> None:
    write_text_atomic(job_dir / INPUTS_FILE, json.dumps(inputs))


def read_results(job_dir: Path) -> dict[str, Any]:
    return dict(json.loads((job_dir / RESULTS_FILE).read_text()))


def write_results(job_dir: Path, results: dict[str, Any]) -> None:
    write_text_atomic(job_dir / RESULTS_FILE, json.dumps(results))


def remove_outputs(job_dir: Path) -> None:
    """Delete everything of the job but its status and inputs (a dismissed job)."""
    for entry in job_dir.iterdir():
        if entry.name not in (STATUS_FILE, INPUTS_FILE):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
