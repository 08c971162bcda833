"""Asynchronous jobs of OGC API - Processes, kept as files and run in worker processes.

A job is a folder ``<archive>/_jobs/<id>/`` holding ``status.json`` (the OGC ``statusInfo``)
and, when done, ``results.json`` and the products. Status files are written atomically, by
the server when it accepts or dismisses a job and by the worker while it runs, so any server
process sharing the archive answers for any job, and jobs survive a server restart (a job
whose worker died with its server is reported failed when read).

Workers are ``spawn``ed processes: the server never imports torch, the work may.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slidewatch.atomic import write_text_atomic
from slidewatch.service.problems import Conflict, NotFound
from slidewatch.service.settings import ServiceSettings

FINAL = ("successful", "failed", "dismissed")
STATUS_FILE = "status.json"
RESULTS_FILE = "results.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_status(job_dir: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the job's status file (atomically) and return the new status."""
    path = job_dir / STATUS_FILE
    status = json.loads(path.read_text()) if path.is_file() else {}
    status.update(changes, updated=now_iso())
    write_text_atomic(path, json.dumps(status, indent=1))
    return status


def _valid_id(job_id: str) -> bool:
    try:
        return str(uuid.UUID(job_id)) == job_id
    except ValueError:
        return False


class JobRunner:
    """Creates, runs, reads and dismisses jobs under ``root``."""

    def __init__(self, root: Path, settings: ServiceSettings) -> None:
        self.root = root
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[str, Future[None]] = {}

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:  # started on first use: a server without jobs has no workers
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.settings.job_workers, mp_context=context)
        return self._pool

    def job_dir(self, job_id: str) -> Path:
        """The folder of an existing job; :class:`NotFound` for malformed or unknown ids."""
        folder = self.root / job_id
        if not _valid_id(job_id) or not (folder / STATUS_FILE).is_file():
            raise NotFound(f"no job {job_id!r}; list the jobs with GET /jobs")
        return folder

    def submit(self, process_id: str, inputs: dict[str, Any], target: Any) -> dict[str, Any]:
        """Accept a job: write its status, queue ``target(job_dir, inputs)`` in a worker."""
        job_id = str(uuid.uuid4())
        folder = self.root / job_id
        folder.mkdir(parents=True)
        write_text_atomic(folder / "inputs.json", json.dumps(inputs))
        status = write_status(
            folder, jobID=job_id, processID=process_id, type="process", status="accepted",
            message="queued", created=now_iso(), progress=0, server_pid=os.getpid(),
        )  # fmt: skip
        self._futures[job_id] = self._executor().submit(target, str(folder), inputs)
        return status

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's statusInfo; a job orphaned by a dead server reads as failed."""
        folder = self.job_dir(job_id)
        status: dict[str, Any] = json.loads((folder / STATUS_FILE).read_text())
        if status["status"] in ("accepted", "running") and self._orphaned(job_id, status):
            status = write_status(
                folder, status="failed", message="the server running this job stopped; submit again"
            )
        return status

    def _orphaned(self, job_id: str, status: dict[str, Any]) -> bool:
        if job_id in self._futures:
            return False
        pid = status.get("server_pid")
        if not isinstance(pid, int) or pid == os.getpid():  # ours but unknown: lost on a restart
            return True
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        return False

    def results(self, job_id: str) -> dict[str, Any]:
        status = self.status(job_id)
        if status["status"] != "successful":
            raise NotFound(
                f"job {job_id} has no results (status {status['status']}); "
                "wait until GET /jobs/{id} says successful"
            )
        results: dict[str, Any] = json.loads((self.root / job_id / RESULTS_FILE).read_text())
        return results

    def dismiss(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued job or mark a running one dismissed; delete its outputs."""
        folder = self.job_dir(job_id)
        status = self.status(job_id)
        if status["status"] == "dismissed":
            raise Conflict(f"job {job_id} is already dismissed")
        future = self._futures.pop(job_id, None)
        if future is not None:
            future.cancel()  # a running worker finds the 'dismissed' status and discards its work
        for entry in folder.iterdir():
            if entry.name not in (STATUS_FILE, "inputs.json"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
        return write_status(folder, status="dismissed", message="dismissed by the client")

    def list(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        ids = sorted(p.name for p in self.root.iterdir() if (p / STATUS_FILE).is_file())
        return [self.status(i) for i in ids if _valid_id(i)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
