"""Asynchronous jobs of OGC API - Processes, kept as files and run in worker processes.

A job is a folder ``<archive>/_jobs/<id>/`` holding ``inputs.json``, ``status.json`` (the OGC
``statusInfo``, with the pids of the server that queued it and of the worker that runs it)
and, when done, ``results.json`` and the products. Status files are written atomically, by
the server when it accepts or dismisses a job and by the worker while it runs, so any server
process sharing the folder answers for any job.

Jobs survive a server that dies: a server adopts a job whose queueing server (``accepted``)
or worker (``running``) is gone, at its start and whenever it reads the job. Adopting is
claimed by creating a marker file exclusively, so one server adopts a job once. An
``accepted`` job is queued again; a ``running`` one is queued again when its process is safe
to repeat (``run-aoi``: the run key makes a second look process nothing twice), else failed
with the reason.

Workers are ``spawn``ed processes: the server never imports torch, the work may.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from slidewatch.monitoring.registry import Registry
from slidewatch.service.job_files import (
    FINAL,
    STATUS_FILE,
    now_iso,
    read_inputs,
    read_results,
    read_status,
    remove_outputs,
    write_inputs,
    write_status,
)
from slidewatch.service.problems import Conflict, NotFound
from slidewatch.service.processes import Process
from slidewatch.service.settings import ServiceSettings
from slidewatch.service.worker import execute


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphan_of(status: dict[str, Any]) -> str | None:
    """What left an unfinished job behind: ``server-PID`` (its queue) or ``worker-PID``; None
    when it is finished or its process lives. A job queued by this very process but not known
    to it (pid reused after a restart) is an orphan too."""
    if status.get("status") == "accepted":
        pid = status.get("server_pid")
        dead = not _alive(pid) or pid == os.getpid()
        return f"server-{pid}" if dead else None
    if status.get("status") == "running":
        pid = status.get("worker_pid")
        return None if _alive(pid) else f"worker-{pid}"
    return None


def _valid_id(job_id: str) -> bool:
    try:
        return str(uuid.UUID(job_id)) == job_id
    except ValueError:
        return False


class JobRunner:
    """Creates, runs, reads and dismisses jobs of ``processes`` under ``root``."""

    def __init__(
        self, root: Path, processes: Mapping[str, Process], settings: ServiceSettings
    ) -> None:
        self.root = root
        self.processes = processes
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[str, Future[None]] = {}
        self._mine: set[str] = set()
        """Jobs this server queued or adopted (it knows their fate; others may be orphans)."""

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

    def submit(self, process: Process, inputs: dict[str, Any]) -> dict[str, Any]:
        """Accept a job of ``process``: write its inputs and status, queue it in a worker."""
        job_id = str(uuid.uuid4())
        self._mine.add(job_id)  # before its status exists: never an orphan to this server
        folder = self.root / job_id
        folder.mkdir(parents=True)
        write_inputs(folder, inputs)
        status = write_status(
            folder, jobID=job_id, processID=process.id, type="process", status="accepted",
            message="queued", created=now_iso(), progress=0, server_pid=os.getpid(),
        )  # fmt: skip
        self._queue(process, folder, inputs)
        return status

    def _queue(self, process: Process, folder: Path, inputs: dict[str, Any]) -> None:
        future = self._executor().submit(execute, process, str(folder), inputs, self.settings)
        self._futures[folder.name] = future

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's statusInfo; a job orphaned by a dead server or worker is adopted first."""
        folder = self.job_dir(job_id)
        status = read_status(folder)
        orphan = _orphan_of(status) if job_id not in self._mine else None
        if orphan is not None:
            status = self._adopt(folder, status, orphan)
        future = self._futures.get(job_id)
        if status["status"] not in FINAL and future is not None and future.done():
            error = None if future.cancelled() else future.exception()
            if error is not None:  # the worker process died (a broken pool), not the job's code
                message = f"the worker stopped: {error}; submit it again"
                status = write_status(folder, status="failed", finished=now_iso(), message=message)
        return status

    def _adopt(self, folder: Path, status: dict[str, Any], orphan: str) -> dict[str, Any]:
        """Queue again (or fail) a job left by a dead process, unless another server did."""
        try:  # the claim: one server adopts this orphan
            os.close(os.open(folder / f"adopted-{orphan}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return read_status(folder)
        process = self.processes.get(status.get("processID", ""))
        if process is None:
            return write_status(
                folder, status="failed", finished=now_iso(),
                message="this server does not run this process; submit it again",
            )  # fmt: skip
        if status["status"] == "running" and not process.repeatable:
            return write_status(
                folder, status="failed", finished=now_iso(),
                message="the server running this job stopped; submit it again",
            )  # fmt: skip
        message = f"queued again: the server or worker of this job stopped ({status['status']})"
        again = write_status(folder, status="accepted", server_pid=os.getpid(), worker_pid=None,
                             message=message)  # fmt: skip
        self._mine.add(folder.name)
        self._queue(process, folder, read_inputs(folder))
        return again

    def adopt_orphans(self) -> None:
        """Adopt every job left by a dead server or worker (at the server's start)."""
        self.list()  # reading a job adopts it

    def results(self, job_id: str) -> dict[str, Any]:
        status = self.status(job_id)
        if status["status"] != "successful":
            raise NotFound(
                f"job {job_id} has no results (status {status['status']}); "
                "wait until GET /jobs/{id} says successful"
            )
        return read_results(self.root / job_id)

    def dismiss(self, job_id: str, registry: Registry) -> dict[str, Any]:
        """Cancel a queued job or mark a running one dismissed; delete its outputs; end what
        its process says ends with it (a queued run)."""
        folder = self.job_dir(job_id)
        status = self.status(job_id)
        if status["status"] == "dismissed":
            raise Conflict(f"job {job_id} is already dismissed")
        future = self._futures.pop(job_id, None)
        if future is not None:
            future.cancel()  # a running worker finds the 'dismissed' status and discards its work
        remove_outputs(folder)
        dismissed = write_status(folder, status="dismissed", message="dismissed by the client")
        process = self.processes.get(status.get("processID", ""))
        if process is not None:
            process.dismissed(registry, read_inputs(folder))
        return dismissed

    def list(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        ids = sorted(p.name for p in self.root.iterdir() if (p / STATUS_FILE).is_file())
        return [self.status(i) for i in ids if _valid_id(i)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
