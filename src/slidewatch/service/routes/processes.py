"""OGC API - Processes (Part 1, asynchronous execution) with one process: ``detect``.

``POST /processes/detect/execution`` validates the inputs, queues a job in a worker process and
answers 201 with the job's ``Location``; ``/jobs`` reports it (see ``routes/jobs.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from slidewatch.service.auth import ReadAccess, WriteKey
from slidewatch.service.geometry import check_limits
from slidewatch.service.models_dir import resolve_model
from slidewatch.service.problems import NotFound
from slidewatch.service.state import service_of

router = APIRouter(tags=["processes"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
]


class DetectInputs(BaseModel):
    """Inputs of ``detect``: where, when (an event date or a date range) and with which model."""

    model_config = ConfigDict(extra="forbid")
    aoi: dict[str, Any] = Field(description="GeoJSON Polygon in lon/lat")
    model: str = Field(description="Name of a model under the server's models directory")
    event_date: date | None = Field(None, description="Detect on the first acquisition after it")
    start: date | None = None
    end: date | None = None
    source: str = Field("default", description="Name of a source configured on the server")
    max_cloud_pct: float = Field(80.0, ge=0, le=100)

    @model_validator(mode="after")
    def _when(self) -> DetectInputs:
        if (self.event_date is None) == (self.start is None or self.end is None):
            raise ValueError("give either event_date, or start and end")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class Execute(BaseModel):
    model_config = ConfigDict(extra="allow")
    inputs: DetectInputs


def _description() -> dict[str, Any]:
    schema = DetectInputs.model_json_schema()
    inputs = {
        name: {"title": name, "description": prop.get("description", ""),
               "schema": {k: v for k, v in prop.items() if k not in ("description", "title")},
               "minOccurs": 1 if name in schema.get("required", []) else 0, "maxOccurs": 1}
        for name, prop in schema["properties"].items()
    }  # fmt: skip
    return {
        "id": "detect",
        "title": "Detect landslides",
        "description": "Fetch the Sentinel-2 + elevation stack over an AOI for a date or event, "
        "run a model on it (ONNX engine, in a worker process), return the landslide polygons.",
        "version": "1.0.0",
        "jobControlOptions": ["async-execute", "dismiss"],
        "outputTransmission": ["value"],
        "inputs": inputs,
        "outputs": {
            "landslides": {
                "title": "Landslide polygons",
                "schema": {"type": "object", "contentMediaType": "application/geo+json"},
            },
            "summary": {"title": "Detection summary", "schema": {"type": "object"}},
        },
        "links": [
            {
                "href": "/processes/detect/execution",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute",
                "title": "Execute",
            }
        ],
    }


@router.get("/conformance", dependencies=[ReadAccess], summary="OGC conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/processes", dependencies=[ReadAccess], summary="The processes offered")
def processes() -> dict[str, Any]:
    summary = {k: v for k, v in _description().items() if k not in ("inputs", "outputs")}
    summary["links"] = [{"href": "/processes/detect", "rel": "self", "title": "detect"}]
    return {"processes": [summary], "links": [{"href": "/processes", "rel": "self"}]}


@router.get("/processes/{process_id}", dependencies=[ReadAccess], summary="A process")
def process(process_id: str) -> dict[str, Any]:
    if process_id != "detect":
        raise NotFound(f"no process {process_id!r}; processes: detect")
    return _description()


@router.post(
    "/processes/{process_id}/execution",
    status_code=201,
    dependencies=[WriteKey],
    summary="Execute a process asynchronously (201 + Location of the job)",
)
def execute(request: Request, process_id: str, body: Execute) -> JSONResponse:
    from slidewatch.service.worker import detect_job

    if process_id != "detect":
        raise NotFound(f"no process {process_id!r}; processes: detect")
    service = service_of(request)
    settings = service.settings
    inputs = body.inputs
    check_limits(inputs.aoi, settings.max_aoi_vertices, settings.max_aoi_area_km2)
    from slidewatch.monitoring.registry.aois import check_geometry

    check_geometry(inputs.aoi, "inputs.aoi")
    model_dir, digest = resolve_model(settings, inputs.model)
    job_inputs = inputs.model_dump(mode="json")
    job_inputs.update(model_path=str(model_dir), model_hash=digest,
                      source_options=settings.source_options(inputs.source))  # fmt: skip
    status = service.jobs.submit("detect", job_inputs, detect_job)
    location = f"/jobs/{status['jobID']}"
    status["links"] = [{"href": location, "rel": "monitor", "title": "job status"}]
    return JSONResponse(status, status_code=201, headers={"Location": location})
