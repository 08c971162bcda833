"""``/runs/{id}`` with its detections, changes and archived products, and ``/alerts``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from slidewatch.errors import RegistryError
from slidewatch.service import queries
from slidewatch.service.auth import ReadAccess
from slidewatch.service.problems import NotFound
from slidewatch.service.products import product_response
from slidewatch.service.public import server_roots
from slidewatch.service.state import service_of

router = APIRouter(tags=["runs"], dependencies=[ReadAccess])
RunId = Annotated[int, "run id"]
MAX_RUN_ID = 2**62


def run_or_404(request: Request, run_id: int) -> Any:
    if not 0 < run_id < MAX_RUN_ID:
        raise NotFound(f"no run {run_id}; list an AOI's runs with GET /aois/{{name}}/runs")
    try:
        return service_of(request).registry.run(run_id)
    except RegistryError:
        raise NotFound(
            f"no run {run_id}; list an AOI's runs with GET /aois/{{name}}/runs"
        ) from None


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    from slidewatch.errors import ConfigError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        raise ConfigError(f"bbox {text!r}: give minlon,minlat,maxlon,maxlat (min ≤ max)")
    return (values[0], values[1], values[2], values[3])


@router.get("/runs/{run_id}", summary="One run: state, acquisition, scenes, product names")
def get_run(request: Request, run_id: int) -> dict[str, Any]:
    service = service_of(request)
    (summary,) = queries.with_counts(
        service.registry, [run_or_404(request, run_id)], service.archive,
        service.settings.public_url, server_roots(service.settings.layout),
    )  # fmt: skip
    return summary


@router.head("/runs/{run_id}/products/{name}", include_in_schema=False)
@router.get(
    "/runs/{run_id}/products/{name}",
    response_class=Response,
    responses={200: {"description": "The file"}, 206: {"description": "A byte range of it"}},
    summary="A run's archived file by its product name (HTTP Range: GDAL /vsicurl/ reads COGs)",
)
async def run_product(request: Request, run_id: int, name: str) -> Response:
    run = await run_in_threadpool(run_or_404, request, run_id)
    archive = service_of(request).archive
    return await run_in_threadpool(product_response, request, archive, run.products or {}, name)


@router.get("/runs/{run_id}/detections", summary="A run's landslides (GeoJSON)")
def run_detections(
    request: Request,
    run_id: int,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    min_area_m2: Annotated[float, Query(ge=0, le=1e12)] = 0.0,
) -> Any:
    run_or_404(request, run_id)
    service = service_of(request)
    collection = queries.detections(
        service.registry, run_id, _bbox(bbox), min_area_m2, service.settings.max_features
    )
    return queries.geojson_response(collection)


@router.get("/runs/{run_id}/changes", summary="A run's changes against the previous run")
def run_changes(request: Request, run_id: int) -> Any:
    run_or_404(request, run_id)
    return queries.geojson_response(queries.changes(service_of(request).registry, run_id))


@router.get(
    "/alerts",
    tags=["alerts"],
    summary="Alert events since a time (default: 30 days), oldest first: kind, confidence, "
    "the acquisition date, the landslide's area and confidence now, deliveries",
)
def alerts(
    request: Request,
    since: Annotated[datetime | None, Query(description="ISO 8601 time")] = None,
    aoi: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    start = since or datetime.now(UTC) - timedelta(days=30)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    service = service_of(request)
    registry, roots = service.registry, server_roots(service.settings.layout)
    try:
        found = registry.alerts_since(start, aoi)
    except RegistryError as exc:
        raise NotFound(str(exc)) from None
    return queries.alert_list(registry, found, service.settings.public_url, roots)
