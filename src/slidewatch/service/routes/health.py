"""``GET /health``: is the registry reachable, is the archive writable; which versions run
(to key holders only)."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from slidewatch import __version__
from slidewatch.service.auth import holds_key
from slidewatch.service.state import service_of

router = APIRouter(tags=["health"])


def _versions() -> dict[str, str]:
    found = {"slidewatch": __version__, "python": platform.python_version()}
    for package in ("fastapi", "sqlalchemy", "rio-tiler", "rasterio"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


@router.get("/health", summary="Database reachable, archive writable; versions to key holders")
def health(request: Request) -> JSONResponse:
    service = service_of(request)
    database = True
    try:
        with service.registry.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means: not reachable
        database = False
    archive = service.archive.writable()
    body: dict[str, Any] = {
        "status": "ok" if database and archive else "degraded",
        "database": database,
        "archive_writable": archive,
        "scheduler": service.scheduler is not None,
        "scheduler_ticks": service.scheduler.ticks if service.scheduler else 0,
        "scheduler_looking": bool(service.scheduler and service.scheduler.looking),
    }
    if holds_key(request):  # library versions tell an attacker which flaws to try
        body["versions"] = _versions()
    return JSONResponse(body, status_code=200 if database and archive else 503)
