"""``/jobs``: status, results and dismissal of asynchronous jobs (OGC API - Processes).

A job's message and results pass through :func:`~slidewatch.service.public.hide_paths`: the
worker writes what it read (a scene's files, the model's folder), a client sees file names."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from slidewatch.monitoring.alerts.payload import Links
from slidewatch.redact import redact
from slidewatch.service.auth import ReadAccess, WriteKey
from slidewatch.service.public import hide_paths, server_roots
from slidewatch.service.state import ServiceState, service_of

router = APIRouter(tags=["jobs"])


def _with_links(service: ServiceState, status: dict[str, Any]) -> dict[str, Any]:
    job = Links(service.settings.public_url).url(f"/jobs/{status['jobID']}")
    links = [{"href": job, "rel": "self", "type": "application/json"}]
    if status.get("status") == "successful":
        links.append(
            {"href": f"{job}/results", "rel": "http://www.opengis.net/def/rel/ogc/1.0/results"}
        )
    public = {k: v for k, v in status.items() if k not in ("server_pid", "worker_pid")}
    if isinstance(public.get("message"), str):  # a failure's reason may quote a source URL
        public["message"] = redact(public["message"])
    return {**hide_paths(public, server_roots(service.settings.layout)), "links": links}


@router.get("/jobs", dependencies=[ReadAccess], summary="All jobs")
def jobs(request: Request) -> dict[str, Any]:
    service = service_of(request)
    found = service.jobs.list()
    own = Links(service.settings.public_url).url("/jobs")
    return {
        "jobs": [_with_links(service, s) for s in found],
        "links": [{"href": own, "rel": "self"}],
    }


@router.get("/jobs/{job_id}", dependencies=[ReadAccess], summary="A job's status")
def job(request: Request, job_id: str) -> dict[str, Any]:
    service = service_of(request)
    return _with_links(service, service.jobs.status(job_id))


@router.get("/jobs/{job_id}/results", dependencies=[ReadAccess], summary="A finished job's results")
def results(request: Request, job_id: str) -> dict[str, Any]:
    service = service_of(request)
    return dict(hide_paths(service.jobs.results(job_id), server_roots(service.settings.layout)))


@router.delete("/jobs/{job_id}", dependencies=[WriteKey], summary="Dismiss a job")
def dismiss(request: Request, job_id: str) -> dict[str, Any]:
    service = service_of(request)
    return _with_links(service, service.jobs.dismiss(job_id, service.registry))
