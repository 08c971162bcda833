"""What a job's worker process runs. The server only imports this module's name; its work
(acquisition, the ONNX engine, the monitoring runner) is imported here, in the worker.

Each job function takes the job's folder and inputs, updates ``status.json`` as it goes and
ends with ``results.json`` + status ``successful``, or status ``failed`` with the reason. A job
dismissed meanwhile keeps its ``dismissed`` status and its outputs are discarded.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from slidewatch.atomic import write_text_atomic
from slidewatch.service.jobs_store import RESULTS_FILE, STATUS_FILE, now_iso, write_status

EVENT_WINDOW_DAYS = 60
"""After an event date, the first acquisition within this many days is used."""


def _dismissed(job_dir: Path) -> bool:
    status = json.loads((job_dir / STATUS_FILE).read_text())
    return bool(status.get("status") == "dismissed")


def _run(job_dir: Path, inputs: dict[str, Any], work: Callable[..., dict[str, Any]]) -> None:
    if _dismissed(job_dir):
        return
    write_status(job_dir, status="running", started=now_iso(), message="running", progress=10,
                 worker_pid=os.getpid())  # fmt: skip
    try:
        results = work(job_dir, inputs)
    except Exception as exc:  # the job fails with the reason; the worker lives on
        reason = "".join(traceback.format_exception_only(exc)).strip()
        if not _dismissed(job_dir):
            write_status(job_dir, status="failed", finished=now_iso(), message=reason)
        return
    if _dismissed(job_dir):
        for entry in job_dir.iterdir():
            if entry.name not in (STATUS_FILE, "inputs.json"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
        return
    write_text_atomic(job_dir / RESULTS_FILE, json.dumps(results))
    write_status(job_dir, status="successful", finished=now_iso(), message="done", progress=100)


def _detect(job_dir: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    from slidewatch.monitoring import imagery

    source, aoi = inputs["source_options"], inputs["aoi"]
    if inputs.get("event_date"):
        start = date.fromisoformat(inputs["event_date"])
        end = start + timedelta(days=EVENT_WINDOW_DAYS)
    else:
        start, end = date.fromisoformat(inputs["start"]), date.fromisoformat(inputs["end"])
    found = imagery.search(source, aoi, start, end)
    if not found:
        raise LookupError(f"no acquisition over the AOI between {start} and {end}; widen the dates")
    chosen = found[0] if inputs.get("event_date") else found[-1]
    write_status(job_dir, message=f"fetching {chosen.date}", progress=30)
    stack = job_dir / "stack.tif"
    unseen = imagery.cloud_pct(imagery.fetch(source, aoi, chosen, stack))
    if unseen > float(inputs.get("max_cloud_pct", 100.0)):
        raise ValueError(f"{unseen:.1f}% of the AOI is unseen on {chosen.date}; try other dates")
    write_status(job_dir, message=f"detecting on {chosen.date}", progress=60)
    summary = imagery.detect(stack, inputs["model_path"], job_dir / "detect")
    stack.unlink(missing_ok=True)
    landslides = json.loads((job_dir / "detect" / "landslides.geojson").read_text())
    return {
        "landslides": landslides,
        "summary": {**summary, "acquisition_date": chosen.date, "scenes": chosen.scenes,
                    "unseen_pct": unseen, "model_hash": inputs["model_hash"]},
    }  # fmt: skip


def _run_aoi(job_dir: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    from slidewatch.monitoring.look import MonitorConfig
    from slidewatch.monitoring.look.queue import run_queued

    config = MonitorConfig(**inputs["monitor"])
    outcomes = run_queued(config, int(inputs["run_id"]), datetime.now(UTC))
    return {
        "runs": [
            {**o.__dict__, "href": f"/runs/{o.run_id}" if o.run_id is not None else None}
            for o in outcomes
        ]
    }


def detect_job(job_dir: str, inputs: dict[str, Any]) -> None:
    """OGC process ``detect``: search, fetch, detect (ONNX engine) over the inputs' AOI."""
    _run(Path(job_dir), inputs, _detect)


def run_aoi_job(job_dir: str, inputs: dict[str, Any]) -> None:
    """``POST /aois/{name}/runs``: the queued run ``inputs["run_id"]``, by the monitoring
    runner (a look at the AOI, now)."""
    _run(Path(job_dir), inputs, _run_aoi)


JOB_TARGETS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "detect": detect_job,
    "run-aoi": run_aoi_job,
}
"""What each process id runs (a server adopting a job left by a dead one looks it up here)."""
REPEATABLE = frozenset({"run-aoi"})
"""Processes safe to run again after a worker died mid-way: a look's runs are keyed by
(AOI, acquisition), so a second look processes nothing twice and takes over the dead run."""
