"""The application factory: one FastAPI app over the monitoring registry and archive.

``create_app(settings)`` wires settings, the error table, API keys, the body-size limit, the
routers (one module per resource under ``routes/``), the web map and, when asked, the
in-process scheduler. Nothing here imports torch: detection jobs run in worker processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from slidewatch import __version__
from slidewatch.service import openapi, problems
from slidewatch.service.limits import BodySizeLimit
from slidewatch.service.settings import ServiceSettings
from slidewatch.service.state import ServiceState


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """A ready-to-serve app; ``settings`` default to the environment (``SLIDEWATCH_*``)."""
    settings = settings or ServiceSettings.read()
    settings.apply()
    settings.check_models_dir()
    state = ServiceState.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="slidewatch",
        version=__version__,
        description="Landslide monitoring: areas of interest, runs, detections, changes, "
        "alerts, map tiles of the archived products, and OGC API - Processes for detection.",
        lifespan=lifespan,
        docs_url=None,  # served from the package (api_docs), not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = state
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.origins),
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],  # PUT: a label save
            # Range: a COG viewer on another origin reads products by byte ranges
            allow_headers=["X-API-Key", "Content-Type", "Range"],
            expose_headers=["Content-Range", "Accept-Ranges", "Content-Length", "Location"],
        )
    _include_routers(app, settings)
    openapi.install(app, reads_keyed=settings.read_requires_key)
    return app


def _include_routers(app: FastAPI, settings: ServiceSettings) -> None:
    from slidewatch.service.api_docs import docs_router
    from slidewatch.service.auth import ReadAccess, WriteKey
    from slidewatch.service.labeling import LabelDatasets, labeling_router
    from slidewatch.service.routes import (
        aois,
        health,
        jobs,
        landslides,
        page,
        processes,
        runs,
        tiles,
    )

    for module in (health, aois, runs, landslides, tiles, processes, jobs, page):
        app.include_router(module.router)
    app.include_router(docs_router("/docs", app.openapi_url or "/openapi.json", app.title))
    # saves name their annotator; the server's login name is never shown to a client
    datasets = LabelDatasets(lambda: settings.label_datasets, models=settings.label_models,
                             annotator="anonymous")  # fmt: skip
    # the labeling router's saves and skips need a key like every write here
    router = labeling_router(datasets, write_dependencies=[WriteKey])
    app.include_router(router, dependencies=[ReadAccess])
