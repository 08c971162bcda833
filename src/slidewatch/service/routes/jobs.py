"""``/jobs``: status, results and dismissal of asynchronous jobs (OGC API - Processes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from slidewatch.redact import redact
from slidewatch.service.auth import ReadAccess, WriteKey
from slidewatch.service.state import service_of

router = APIRouter(tags=["jobs"])


def _with_links(status: dict[str, Any]) -> dict[str, Any]:
    job = f"/jobs/{status['jobID']}"
    links = [{"href": job, "rel": "self", "type": "application/json"}]
    if status.get("status") == "successful":
        links.append(
            {"href": f"{job}/results", "rel": "http://www.opengis.net/def/rel/ogc/1.0/results"}
        )
    public = {k: v for k, v in status.items() if k not in ("server_pid", "worker_pid")}
    if isinstance(public.get("message"), str):  # a failure's reason may quote a source URL
        public["message"] = redact(public["message"])
    return {**public, "links": links}


@router.get("/jobs", dependencies=[ReadAccess], summary="All jobs")
def jobs(request: Request) -> dict[str, Any]:
    found = service_of(request).jobs.list()
    return {"jobs": [_with_links(s) for s in found], "links": [{"href": "/jobs", "rel": "self"}]}


@router.get("/jobs/{job_id}", dependencies=[ReadAccess], summary="A job's status")
def job(request: Request, job_id: str) -> dict[str, Any]:
    return _with_links(service_of(request).jobs.status(job_id))


@router.get("/jobs/{job_id}/results", dependencies=[ReadAccess], summary="A finished job's results")
def results(request: Request, job_id: str) -> dict[str, Any]:
    return service_of(request).jobs.results(job_id)


@router.delete("/jobs/{job_id}", dependencies=[WriteKey], summary="Dismiss a job")
def dismiss(request: Request, job_id: str) -> dict[str, Any]:
    service = service_of(request)
    return _with_links(service.jobs.dismiss(job_id, service.registry))
