"""The API's documentation page (Swagger UI) from files shipped with slidewatch.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so it is blank without internet. Here the
page loads ``swagger-ui-dist`` vendored from npm (``scripts/vendor_swagger_ui.sh``, with its
licence) from ``<docs_url>/swagger-ui/``; every app of the service (the API, ``slidewatch
label``) mounts it with ``docs_url=None`` given to FastAPI.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

SWAGGER_UI = Path(str(files("slidewatch.service") / "static" / "vendor" / "swagger-ui"))
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain",
    "NOTICE": "text/plain",
}
"""The only files served under ``<docs_url>/swagger-ui/``."""


def docs_router(docs_url: str, openapi_url: str, title: str) -> APIRouter:
    """``GET docs_url``: Swagger UI over ``openapi_url``, its files from the package."""
    router = APIRouter(include_in_schema=False)
    assets = f"{docs_url}/swagger-ui"

    @router.get(docs_url)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{title} - API",
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon-32x32.png",
            # no badge from validator.swagger.io: nothing is fetched from outside
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(assets + "/{name}")
    def asset(name: str) -> FileResponse:
        if name not in SWAGGER_FILES:
            raise HTTPException(404, f"no documentation file {name!r}")
        return FileResponse(SWAGGER_UI / name, media_type=SWAGGER_FILES[name],
                            headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip

    return router
