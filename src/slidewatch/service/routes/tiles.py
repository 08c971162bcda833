"""``GET /tiles/{run_id}/{layer}/{z}/{x}/{y}.png``: PNG tiles of a run's archived products.

The client names a run and a layer; the registry names the file; the archive admits it only
inside its root (a local folder or an fsspec URL). No parameter is a path.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from slidewatch.service.auth import ReadAccess
from slidewatch.service.problems import TooManyRequests
from slidewatch.service.routes.runs import run_or_404
from slidewatch.service.state import service_of
from slidewatch.service.tiles import product_path, render_tile

router = APIRouter(tags=["tiles"], dependencies=[ReadAccess])
RENDER_WAIT_S = 10.0
"""How long a tile request waits for a render slot before a 429."""


@router.get(
    "/tiles/{run_id}/{layer}/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="A PNG tile of a run's product (probability, landslides or rgb)",
)
async def tile(request: Request, run_id: int, layer: str, z: int, x: int, y: int) -> Response:
    service = service_of(request)
    run = await run_in_threadpool(run_or_404, request, run_id)
    product = service.archive.admit(product_path(run.products or {}, layer))
    slots = _render_slots(request)
    try:  # a flood of tiles queues for a while, then is told to come back
        await asyncio.wait_for(slots.acquire(), timeout=RENDER_WAIT_S)
    except TimeoutError:
        raise TooManyRequests(
            "the server is rendering as many tiles as it may; retry in a few seconds"
        ) from None
    try:
        png = await run_in_threadpool(render_tile, product, layer, z, x, y)
    finally:
        slots.release()
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


def _render_slots(request: Request) -> asyncio.Semaphore:
    """The app's tile renders in flight, at most ``max_tile_renders`` (one per event loop)."""
    slots = getattr(request.app.state, "tile_slots", None)
    if slots is None:
        slots = asyncio.Semaphore(service_of(request).settings.max_tile_renders)
        request.app.state.tile_slots = slots
    return slots
