"""OGC API - Processes (Part 1, asynchronous execution) over the process registry.

``POST /processes/{id}/execution`` validates the inputs with the process's own model, lets the
process accept them, queues a job in a worker process and answers 201 with the job's
``Location``; ``/jobs`` reports it (see ``routes/jobs.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from slidewatch.service.auth import ReadAccess, WriteKey
from slidewatch.service.processes import offered_process
from slidewatch.service.state import service_of

router = APIRouter(tags=["processes"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
]


class Execute(BaseModel):
    """An execute request; ``inputs`` are checked against the process's input model."""

    model_config = ConfigDict(extra="allow")
    inputs: dict[str, Any]


@router.get("/conformance", dependencies=[ReadAccess], summary="OGC conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/processes", dependencies=[ReadAccess], summary="The processes offered")
def processes(request: Request) -> dict[str, Any]:
    listed = []
    for process in service_of(request).jobs.processes.values():
        if process.offered:
            link = {"href": f"/processes/{process.id}", "rel": "self", "title": process.id}
            listed.append({**process.summary(), "links": [link]})
    return {"processes": listed, "links": [{"href": "/processes", "rel": "self"}]}


@router.get("/processes/{process_id}", dependencies=[ReadAccess], summary="A process")
def process(request: Request, process_id: str) -> dict[str, Any]:
    return offered_process(service_of(request).jobs.processes, process_id).describe()


@router.post(
    "/processes/{process_id}/execution",
    status_code=201,
    dependencies=[WriteKey],
    summary="Execute a process asynchronously (201 + Location of the job)",
)
def execute(request: Request, process_id: str, body: Execute) -> JSONResponse:
    service = service_of(request)
    chosen = offered_process(service.jobs.processes, process_id)
    try:
        inputs = chosen.inputs.model_validate(body.inputs)
    except ValidationError as exc:  # answered as FastAPI answers its own (422, field named)
        errors = [{**e, "loc": ("body", "inputs", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    status = service.jobs.submit(chosen, chosen.accept(service.settings, inputs))
    location = f"/jobs/{status['jobID']}"
    status["links"] = [{"href": location, "rel": "monitor", "title": "job status"}]
    return JSONResponse(status, status_code=201, headers={"Location": location})
