"""``/landslides/{id}``: one landslide as a responder sees it (confidence, looks, what a
geologist checks, verdicts, alerts and their deliveries), and a reviewer's verdict on it.

Both call :mod:`slidewatch.application.review`, as ``monitor review`` does; who reviewed is the
API key's name (``SLIDEWATCH_API_KEYS`` entries ``name:key``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from slidewatch.application.review import (
    MAX_NOTE_CHARS,
    LandslideDetail,
    ReviewRequest,
    landslide,
    parse_verdict,
    review_landslide,
)
from slidewatch.monitoring.alerts.payload import Links
from slidewatch.service.auth import KeyName, ReadAccess
from slidewatch.service.problems import NotFound
from slidewatch.service.public import hide_paths, server_roots
from slidewatch.service.state import service_of

router = APIRouter(tags=["landslides"])
MAX_LANDSLIDE_ID = 2**62


class ReviewBody(BaseModel):
    """A verdict: the landslide is real (``confirmed``) or not (``rejected``)."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["confirmed", "rejected"]
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS)


def _id(landslide_id: int) -> int:
    if not 0 < landslide_id < MAX_LANDSLIDE_ID:
        raise NotFound(f"unknown landslide {landslide_id}; ids are in GET /runs/{{id}}/detections")
    return landslide_id


def detail_json(detail: LandslideDetail, base: str, roots: tuple[str, ...]) -> dict[str, Any]:
    """The landslide as the API shows it: its record, the verdict in force, links."""
    links = Links(base)
    data = hide_paths(asdict(detail), roots)
    data["verdict"] = detail.verdict
    for review in data["reviews"]:
        review["at"] = review["at"].isoformat()
    for alert in data["alerts"]:
        alert["created_at"] = alert["created_at"].isoformat()
        alert["links"] = {"run": links.url(f"/runs/{alert['run_id']}")}
        for delivery in alert["deliveries"]:
            at = delivery["delivered_at"]
            delivery["delivered_at"] = at.isoformat() if at is not None else None
    data["links"] = {
        "self": links.landslide(detail.id),
        "review": links.url(f"/landslides/{detail.id}/review"),
        "map": links.map_view(detail.aoi, detail.last_run_id, detail.id),
        "last_run": links.url(f"/runs/{detail.last_run_id}"),
    }
    return data


@router.get(
    "/landslides/{landslide_id}",
    dependencies=[ReadAccess],
    summary="A landslide: confidence, looks, slope/vegetation/elevation, verdicts, alerts",
)
async def get_landslide(request: Request, landslide_id: int) -> dict[str, Any]:
    service = service_of(request)
    detail = await run_in_threadpool(landslide, service.registry, _id(landslide_id))
    return detail_json(detail, service.settings.public_url, server_roots(service.settings.layout))


@router.post(
    "/landslides/{landslide_id}/review",
    summary="Mark a landslide confirmed or rejected (API key; the key's name is who)",
)
async def review(
    request: Request, landslide_id: int, body: ReviewBody, who: KeyName
) -> dict[str, Any]:
    service = service_of(request)
    asked = ReviewRequest(_id(landslide_id), parse_verdict(body.verdict), who, body.note)
    await run_in_threadpool(review_landslide, service.registry, asked)
    detail = await run_in_threadpool(landslide, service.registry, asked.landslide_id)
    return detail_json(detail, service.settings.public_url, server_roots(service.settings.layout))
