"""``GET /``: the web map (MapLibre GL JS, vendored), and its static files under ``/static``."""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from slidewatch.service.auth import ReadAccess
from slidewatch.service.problems import NotFound
from slidewatch.service.state import service_of

router = APIRouter(include_in_schema=False)
STATIC = Path(str(files("slidewatch.service") / "static"))
STATIC_FILES = {
    "api.js": "text/javascript",
    "landslide.js": "text/javascript",
    "map.js": "text/javascript",
    "map.css": "text/css",
    "vendor/maplibre-gl/maplibre-gl.js": "text/javascript",
    "vendor/maplibre-gl/maplibre-gl.css": "text/css",
    "vendor/maplibre-gl/LICENSE.txt": "text/plain",
}
"""The only files served under /static: a fixed list, so no request can name another."""


@router.get("/", response_class=HTMLResponse, dependencies=[ReadAccess])
def index(request: Request) -> HTMLResponse:
    config = {"basemap": service_of(request).settings.basemap_url or None}
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{CONFIG}}", html.escape(json.dumps(config), quote=True))
    return HTMLResponse(page)


@router.get("/static/{name:path}")
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip
