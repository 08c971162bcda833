"""``/aois``: areas of interest as GeoJSON Features, their runs, and "run now"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from slidewatch.application.aois import AOI_DEFAULTS
from slidewatch.errors import RegistryError
from slidewatch.monitoring.alerts.payload import Links
from slidewatch.redact import mask_email, mask_url
from slidewatch.service.auth import ReadAccess, WriteKey, holds_key
from slidewatch.service.geometry import check_limits
from slidewatch.service.problems import Conflict, NotFound
from slidewatch.service.public import server_roots
from slidewatch.service.queries import with_counts
from slidewatch.service.state import service_of

router = APIRouter(tags=["aois"])
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class AoiProperties(BaseModel):
    """What a client may set on an AOI (paths and URLs of sources come from the server)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    model: str = Field(description="Name of a model folder under the server's models directory")
    source: str = Field("default", description="Name of a source configured on the server")
    cadence_days: float = Field(AOI_DEFAULTS["cadence_days"], gt=0, le=3650)
    lookback_days: float = Field(AOI_DEFAULTS["lookback_days"], gt=0, le=3650)
    min_new_area_m2: float = Field(AOI_DEFAULTS["min_new_area_m2"], ge=0)
    max_cloud_pct: float = Field(AOI_DEFAULTS["max_cloud_pct"], ge=0, le=100)
    webhooks: list[Annotated[str, Field(pattern=r"^https?://", max_length=2000)]] = []
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]] = []
    active: bool = True


class AoiFeature(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: AoiProperties


class AoiPatch(BaseModel):
    """Any subset of the settings; ``geometry`` replaces the area."""

    model_config = ConfigDict(extra="forbid")
    geometry: dict[str, Any] | None = None
    cadence_days: float | None = Field(None, gt=0, le=3650)
    lookback_days: float | None = Field(None, gt=0, le=3650)
    min_new_area_m2: float | None = Field(None, ge=0)
    max_cloud_pct: float | None = Field(None, ge=0, le=100)
    webhooks: list[Annotated[str, Field(pattern=r"^https?://", max_length=2000)]] | None = None
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]] | None = None
    active: bool | None = None


def as_feature(aoi: Any, keyed: bool) -> dict[str, Any]:
    """An AOI as a Feature: alert targets (secrets: tokens in URLs, addresses) only to a key
    holder (``keyed``), masked; never a server path or a source's URL."""
    data = aoi.to_dict()
    geometry = data.pop("geometry")
    data.pop("model_path", None)  # a server path: not the client's business
    data.pop("source", None)
    for key in [k for k in data if "secret" in k]:  # a webhook signing secret: never shown
        data.pop(key)
    webhooks, emails = data.pop("webhooks", []) or [], data.pop("emails", []) or []
    if keyed:
        data["webhooks"] = [mask_url(url) for url in webhooks]
        data["emails"] = [mask_email(address) for address in emails]
    data["links"] = {"self": f"/aois/{aoi.name}", "runs": f"/aois/{aoi.name}/runs"}
    return {"type": "Feature", "id": aoi.name, "geometry": geometry, "properties": data}


def _aoi(request: Request, name: str) -> Any:
    try:
        return service_of(request).registry.get_aoi(name)
    except RegistryError as exc:
        raise NotFound(str(exc)) from None


@router.get("/aois", dependencies=[ReadAccess], summary="All AOIs (GeoJSON FeatureCollection)")
def list_aois(request: Request) -> dict[str, Any]:
    aois = service_of(request).registry.list_aois()
    keyed = holds_key(request)
    return {"type": "FeatureCollection", "features": [as_feature(a, keyed) for a in aois]}


@router.post("/aois", status_code=201, dependencies=[WriteKey], summary="Add an AOI")
def add_aoi(request: Request, feature: AoiFeature, response: Response) -> dict[str, Any]:
    from slidewatch.acquisition.options import SourceConfig
    from slidewatch.application.aois import AoiRegistration, register_aoi
    from slidewatch.application.models import named_model

    service = service_of(request)
    settings = service.settings
    props = feature.properties
    check_limits(feature.geometry, settings.max_aoi_vertices, settings.max_aoi_km2)
    if props.name in {a.name for a in service.registry.list_aois()}:
        raise Conflict(f"AOI {props.name!r} already exists; PATCH it or DELETE it first")
    registration = AoiRegistration(
        name=props.name, geometry=feature.geometry, model=named_model(settings, props.model),
        model_label=f"model {props.model!r}",
        source=SourceConfig.from_dict(settings.source_options(props.source)),
        cadence_days=props.cadence_days, lookback_days=props.lookback_days,
        min_new_area_m2=props.min_new_area_m2, max_cloud_pct=props.max_cloud_pct,
        webhooks=tuple(props.webhooks), emails=tuple(props.emails), active=props.active,
    )  # fmt: skip
    aoi = register_aoi(service.registry, registration, settings.webhook_targets)
    response.headers["Location"] = f"/aois/{aoi.name}"
    return as_feature(aoi, keyed=True)


@router.get("/aois/{name}", dependencies=[ReadAccess], summary="One AOI (GeoJSON Feature)")
def get_aoi(request: Request, name: str) -> dict[str, Any]:
    return as_feature(_aoi(request, name), holds_key(request))


@router.patch("/aois/{name}", dependencies=[WriteKey], summary="Change an AOI's settings")
def patch_aoi(request: Request, name: str, patch: AoiPatch) -> dict[str, Any]:
    service = service_of(request)
    _aoi(request, name)
    changes = patch.model_dump(exclude_none=True)
    if "geometry" in changes:
        settings = service.settings
        check_limits(changes["geometry"], settings.max_aoi_vertices, settings.max_aoi_km2)
    if "webhooks" in changes or "emails" in changes:
        current = service.registry.get_aoi(name)
        service.settings.webhook_targets.check_all(
            changes.get("webhooks", current.webhooks), changes.get("emails", current.emails)
        )
    for key in ("webhooks", "emails"):
        if key in changes:
            changes[key] = tuple(changes[key])
    return as_feature(service.registry.update_aoi(name, **changes), keyed=True)


@router.delete("/aois/{name}", status_code=204, dependencies=[WriteKey], summary="Remove an AOI")
def delete_aoi(request: Request, name: str) -> Response:
    _aoi(request, name)
    service_of(request).registry.delete_aoi(name)
    return Response(status_code=204)


@router.get("/aois/{name}/runs", dependencies=[ReadAccess], summary="An AOI's runs, newest first")
def aoi_runs(request: Request, name: str) -> list[dict[str, Any]]:
    _aoi(request, name)
    service = service_of(request)
    settings = service.settings
    runs = service.registry.runs(name)
    roots = server_roots(settings.layout)
    return with_counts(service.registry, runs, service.archive, settings.public_url, roots)


@router.post(
    "/aois/{name}/runs",
    status_code=202,
    dependencies=[WriteKey],
    summary="Run now: 202 + Location of the queued run (/runs/{id})",
)
def run_now(request: Request, name: str) -> JSONResponse:
    from slidewatch.application.runs import queue_run
    from slidewatch.service.processes import RunAoiProcess

    _aoi(request, name)
    service = service_of(request)
    run = queue_run(service.registry, name)
    process = service.jobs.processes[RunAoiProcess.id]
    job = service.jobs.submit(process, {"aoi": name, "run_id": run.id})
    (body,) = with_counts(service.registry, [run], None, service.settings.public_url)
    body["links"]["job"] = Links(service.settings.public_url).url(f"/jobs/{job['jobID']}")
    return JSONResponse(body, status_code=202, headers={"Location": f"/runs/{run.id}"})
