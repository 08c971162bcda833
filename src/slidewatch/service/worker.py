"""What a job's worker process runs: one process object's :meth:`~Process.run`, between the
status changes every job goes through. The server only pickles the process and the settings;
the work (acquisition, the ONNX engine, the monitoring runner) is imported here, in the worker.

A job ends with ``results.json`` + status ``successful``, or status ``failed`` with the
reason. A job dismissed meanwhile keeps its ``dismissed`` status and its outputs are discarded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from slidewatch.redact import redact
from slidewatch.service.job_files import (
    now_iso,
    read_status,
    remove_outputs,
    write_results,
    write_status,
)
from slidewatch.service.processes import Job, Process
from slidewatch.service.settings import ServiceSettings


def _dismissed(job_dir: Path) -> bool:
    return read_status(job_dir).get("status") == "dismissed"


def execute(
    process: Process, job_dir: str, inputs: dict[str, Any], settings: ServiceSettings
) -> None:
    """Run ``process`` on the job in ``job_dir``; the job fails with the reason, the worker
    lives on."""
    folder = Path(job_dir)
    if _dismissed(folder):
        return
    settings.apply()  # a spawned worker: the server's process-wide knobs again
    write_status(folder, status="running", started=now_iso(), message="running", progress=10,
                 worker_pid=os.getpid())  # fmt: skip
    try:
        results = process.run(Job(folder, settings), inputs)
    except Exception as exc:
        if not _dismissed(folder):
            write_status(folder, status="failed", finished=now_iso(),
                         message=redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
        return
    if _dismissed(folder):
        remove_outputs(folder)
        return
    write_results(folder, results)
    write_status(folder, status="successful", finished=now_iso(), message="done", progress=100)
