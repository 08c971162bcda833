"""``GET /tiles/{run_id}/{layer}/{z}/{x}/{y}.png``: PNG tiles of a run's archived products.

The client names a run and a layer; the registry names the file; the archive admits it only
inside its root (a local folder or an fsspec URL). No parameter is a path.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from slidewatch.service.auth import ReadAccess
from slidewatch.service.routes.runs import run_or_404
from slidewatch.service.state import service_of
from slidewatch.service.tiles import product_path, render_tile

router = APIRouter(tags=["tiles"], dependencies=[ReadAccess])


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
    png = await run_in_threadpool(render_tile, product, layer, z, x, y)
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})
