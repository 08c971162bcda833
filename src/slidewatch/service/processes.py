"""OGC API - Processes as objects, registered by name (pygeoapi's ``BaseProcessor`` idea).

A :class:`Process` knows its id, title, description, input model and outputs, whether a
client may execute it (``offered``) and whether a job of it may run again after its worker
died (``repeatable``). The server calls :meth:`Process.accept` on a client's inputs (checks,
names resolved to what the worker needs), the job runner queues it, and the worker calls
:meth:`Process.run`. Routes and the job runner look processes up in :data:`PROCESSES`; none
checks an id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from slidewatch.errors import ConfigError, unknown_name
from slidewatch.monitoring.alerts.payload import Links
from slidewatch.monitoring.registry import Registry
from slidewatch.service.job_files import write_status
from slidewatch.service.problems import NotFound
from slidewatch.service.settings import ServiceSettings


@dataclass(frozen=True)
class Job:
    """What a process's :meth:`~Process.run` gets: its folder and the home's settings."""

    folder: Path
    settings: ServiceSettings

    def report(self, message: str, progress: int) -> None:
        """Tell clients how far the job is (``status.json``)."""
        write_status(self.folder, message=message, progress=progress)


class Process:
    """One OGC process. Subclasses set the class attributes and :meth:`run`."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    inputs: ClassVar[type[BaseModel]]
    """What a client sends (validated: 422 with the field otherwise)."""
    outputs: ClassVar[dict[str, Any]] = {}
    offered: ClassVar[bool] = True
    """Listed under ``/processes`` and executable by clients."""
    repeatable: ClassVar[bool] = False
    """Safe to run again after its worker died mid-way (else the job fails)."""

    def accept(self, settings: ServiceSettings, inputs: BaseModel) -> dict[str, Any]:
        """Check a client's inputs in the server; the job's stored inputs (what :meth:`run`
        reads in the worker)."""
        return inputs.model_dump(mode="json")

    def run(self, job: Job, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do the work in a worker process; the job's results."""
        raise NotImplementedError

    def dismissed(self, registry: Registry, inputs: dict[str, Any]) -> None:
        """What a client's dismissal ends besides the job (nothing by default)."""

    def describe(self) -> dict[str, Any]:
        """The OGC process description (``GET /processes/{id}``)."""
        schema = self.inputs.model_json_schema()
        inputs = {
            name: {"title": name, "description": prop.get("description", ""),
                   "schema": {k: v for k, v in prop.items() if k not in ("description", "title")},
                   "minOccurs": 1 if name in schema.get("required", []) else 0, "maxOccurs": 1}
            for name, prop in schema["properties"].items()
        }  # fmt: skip
        return {**self.summary(), "inputs": inputs, "outputs": self.outputs}

    def summary(self) -> dict[str, Any]:
        """The process as ``GET /processes`` lists it."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "jobControlOptions": ["async-execute", "dismiss"],
            "outputTransmission": ["value"],
            "links": [
                {
                    "href": f"/processes/{self.id}/execution",
                    "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute",
                    "title": "Execute",
                }
            ],
        }


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


class DetectJob(DetectInputs):
    """What a ``detect`` job runs: the inputs with the model and source resolved."""

    model_path: str
    model_hash: str
    source_options: dict[str, Any]


class DetectProcess(Process):
    id = "detect"
    title = "Detect landslides"
    description = (
        "Fetch the Sentinel-2 + elevation stack over an AOI for a date or event, run a model "
        "on it (ONNX engine, in a worker process), return the landslide polygons."
    )
    inputs = DetectInputs
    outputs: ClassVar[dict[str, Any]] = {
        "landslides": {
            "title": "Landslide polygons",
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        },
        "summary": {"title": "Detection summary", "schema": {"type": "object"}},
    }

    def accept(self, settings: ServiceSettings, inputs: BaseModel) -> dict[str, Any]:
        from slidewatch.application.models import named_model
        from slidewatch.monitoring.registry.aois import check_geometry
        from slidewatch.service.geometry import check_limits

        if not isinstance(inputs, DetectInputs):
            raise TypeError(f"detect takes DetectInputs, not {type(inputs).__name__}")
        asked = inputs
        check_limits(asked.aoi, settings.max_aoi_vertices, settings.max_aoi_km2)
        check_geometry(asked.aoi, "inputs.aoi")
        model = named_model(settings, asked.model)
        job = DetectJob(**asked.model_dump(), model_path=model.path, model_hash=model.hash,
                        source_options=settings.source_options(asked.source))  # fmt: skip
        return job.model_dump(mode="json")

    def run(self, job: Job, inputs: dict[str, Any]) -> dict[str, Any]:
        from slidewatch.application.detection import detect_area

        asked = DetectJob.model_validate(inputs)
        messages = {"fetch": ("fetching {}", 30), "detect": ("detecting on {}", 60)}

        def progress(stage: str, day: str) -> None:
            message, percent = messages[stage]
            job.report(message.format(day), percent)

        done = detect_area(_area_detection(asked), job.folder, progress)
        landslides = json.loads((job.folder / "detect" / "landslides.geojson").read_text())
        return {
            "landslides": landslides,
            "summary": {**done.summary.to_dict(), "acquisition_date": done.found.date,
                        "scenes": done.found.scenes, "unseen_pct": done.cloud_pct,
                        "model_hash": asked.model_hash},
        }  # fmt: skip


def _area_detection(asked: DetectJob) -> Any:
    """The application's request for a ``detect`` job."""
    from slidewatch.application.detection import AreaDetection
    from slidewatch.monitoring.imagery import RegisteredModel, Target

    target = Target.parse(asked.source_options, asked.aoi)
    model = RegisteredModel(asked.model_path, asked.model_hash)
    if asked.event_date is not None:
        return AreaDetection.after_event(target, model, asked.event_date, asked.max_cloud_pct)
    if asked.start is None or asked.end is None:
        raise ConfigError("give either event_date, or start and end")
    return AreaDetection.between(target, model, asked.start, asked.end, asked.max_cloud_pct)


class RunAoiInputs(BaseModel):
    """The queued run of ``POST /aois/{name}/runs``."""

    aoi: str
    run_id: int


class RunAoiProcess(Process):
    """A queued run, by the monitoring runner (a look at the AOI, now). Not offered: clients
    ask for it with ``POST /aois/{name}/runs``. A look's runs are keyed by (AOI, acquisition),
    so a second look processes nothing twice and takes over a dead run: repeatable."""

    id = "run-aoi"
    title = "Run an AOI now"
    description = "Look at an AOI now: search, fetch, detect, change, archive, alert."
    inputs = RunAoiInputs
    offered = False
    repeatable = True

    def run(self, job: Job, inputs: dict[str, Any]) -> dict[str, Any]:
        from slidewatch.application.runs import run_queued
        from slidewatch.redact import redact

        asked = RunAoiInputs.model_validate(inputs)
        outcomes = run_queued(job.settings, asked.run_id, datetime.now(UTC))
        return {
            "runs": [
                {**o.__dict__, "reason": redact(o.reason) if o.reason else o.reason,
                 "href": None if o.run_id is None
                 else Links(job.settings.public_url).url(f"/runs/{o.run_id}")}
                for o in outcomes
            ]
        }  # fmt: skip

    def dismissed(self, registry: Registry, inputs: dict[str, Any]) -> None:
        """Its run, if no look has taken it yet, ends too."""
        from slidewatch.application.runs import cancel_queued

        cancel_queued(registry, RunAoiInputs.model_validate(inputs).run_id,
                      "dismissed by the client")  # fmt: skip


PROCESSES: dict[str, Process] = {p.id: p for p in (DetectProcess(), RunAoiProcess())}
"""Every process a job may run, by id."""


def offered_process(processes: Mapping[str, Process], process_id: str) -> Process:
    """The process a client may execute; NotFound naming the offered ones."""
    process = processes.get(process_id)
    if process is None or not process.offered:
        valid = [p.id for p in processes.values() if p.offered]
        raise NotFound(str(unknown_name("process", process_id, valid)))
    return process
