"""The OpenAPI document, made to say what the service does (checked by schemathesis with all
its checks in ``tests/service/test_fuzz.py``).

FastAPI's document is generated from the routes; this module then states, in one place, what
the error table (:mod:`.problems`) and the key rules (:mod:`.auth`) add to every operation:
errors are ``application/problem+json`` (a 422 too: the service's own body, not FastAPI's
``HTTPValidationError``), writes answer 401/403 without a valid key and 413 for a body over the
limit, names and ids not found answer 404, a name taken answers 409, a busy tile renderer 429.
Read operations declare the key scheme only when reads need a key; GeoJSON answers say
``application/geo+json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_TYPE = "application/problem+json"
PROBLEM = {
    "type": "object",
    "description": "An error (RFC 9457): what went wrong and what to do.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}
DESCRIPTIONS = {
    401: "No API key (send one in the X-API-Key header)",
    403: "The API key is not valid, or the server accepts none",
    404: "No such resource (or a tile outside the run's zooms)",
    409: "Conflicts with what is stored (a name taken, a job finished)",
    413: "The body or the geometry is over the server's limits",
    422: "The request is not valid: the detail names the field and the fix",
    429: "Too many tiles rendered at once; retry after Retry-After seconds",
}
GEOJSON_PATHS = ("/runs/{run_id}/detections", "/runs/{run_id}/changes")
WRITES = ("post", "put", "patch", "delete")


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _statuses(path: str, method: str, operation: dict[str, Any], reads_keyed: bool) -> set[int]:
    found = {422}
    keyed = method in WRITES or reads_keyed
    if keyed:
        found |= {401, 403}
    if "{" in path or path == "/alerts":
        found.add(404)
    if method in ("post", "put", "patch"):
        found |= {409, 413}
    if method == "delete":
        found.add(409)
    if path.startswith("/tiles/"):
        found |= {404, 429}
    return found


def describe(document: dict[str, Any], reads_keyed: bool) -> dict[str, Any]:
    """``document`` (FastAPI's) with the errors, keys and media types the service really has."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in (*WRITES, "get"):
                continue
            if method == "get" and not reads_keyed:
                operation.pop("security", None)  # open: no key is asked for
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method, operation, reads_keyed)):
                responses[str(status)] = _problem(status)
            if path in GEOJSON_PATHS and "200" in responses:
                responses["200"]["content"] = {
                    "application/geo+json": {"schema": {"type": "object"}}
                }
    return document


def install(app: FastAPI, reads_keyed: bool) -> None:
    """Serve :func:`describe`'s document at ``/openapi.json`` (built once)."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)  # fmt: skip
            cached.update(describe(document, reads_keyed))
        return cached

    build: Callable[[], dict[str, Any]] = openapi
    app.openapi = build  # type: ignore[method-assign]
