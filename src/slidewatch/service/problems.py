"""One table from errors to HTTP statuses, and the handlers that apply it.

Domain code raises :mod:`slidewatch.errors` classes (or the few service errors below); only
this module knows HTTP. Answers are JSON ``{"type", "title", "status", "detail"}`` (the
exception shape of OGC API and RFC 9457). Anything not in the table is a server fault: 500
with a generic message, never the exception's text, and logged.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from slidewatch.acquisition.aoi import AreaTooLarge
from slidewatch.errors import (
    BandError,
    ConfigError,
    DatasetError,
    ModelError,
    RasterError,
    RegistryError,
    SlidewatchError,
)
from slidewatch.redact import redact

log = logging.getLogger(__name__)


class NotFound(SlidewatchError, KeyError):
    """An AOI, run, job, process or tile that does not exist (or that the client may not see)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Conflict(SlidewatchError, ValueError):
    """The request contradicts the stored state (a name already taken, a finished job)."""


class PayloadTooLarge(SlidewatchError, ValueError):
    """A body, geometry or request beyond the limits in the settings."""


class TooManyRequests(SlidewatchError, RuntimeError):
    """The server is busy with this kind of request (429: retry later)."""


class Unauthorized(SlidewatchError, PermissionError):
    """No API key was given where one is needed."""


class Forbidden(SlidewatchError, PermissionError):
    """The API key given is not one of the server's."""


# Most specific first: the first class that matches decides.
STATUS_OF: tuple[tuple[type[Exception], int, str], ...] = (
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (RegistryError, 404, "not-found"),
    (BandError, 422, "invalid"),
    (Conflict, 409, "conflict"),
    (PayloadTooLarge, 413, "too-large"),
    (TooManyRequests, 429, "too-many-requests"),
    (AreaTooLarge, 413, "too-large"),
    (DatasetError, 422, "invalid"),
    (RasterError, 422, "invalid"),
    (ModelError, 422, "invalid"),
    (ConfigError, 422, "invalid"),
    (SlidewatchError, 422, "invalid"),
)


def status_for(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and problem type of ``exc``; (500, "internal") when not in the table."""
    for cls, status, kind in STATUS_OF:
        if isinstance(exc, cls):
            return status, kind
    return 500, "internal"


def problem(status: int, kind: str, detail: str) -> JSONResponse:
    """The one JSON error body of the service."""
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": "5"}
    return JSONResponse(
        {
            "type": f"urn:slidewatch:problem:{kind}",
            "title": kind,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status, kind = status_for(exc)
    if status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, kind, "internal server error; see the server log")
    return problem(status, kind, redact(str(exc)))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return problem(422, "invalid", "; ".join(parts) + "; fix these fields and send again")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 400
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else str(exc)
    kinds = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}
    answer = problem(status, kinds.get(status, "error"), redact(str(detail)))
    for name, value in (getattr(exc, "headers", None) or {}).items():
        answer.headers.setdefault(name, value)  # e.g. a 405's Allow
    return answer


def install(app: FastAPI) -> None:
    """Register the handlers of the table on ``app``.

    Each class of the table gets its own handler so that 4xx answers are ordinary responses;
    the catch-all ``Exception`` handler only answers the 500 of a server fault.
    """
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for cls, _, _ in STATUS_OF:
        app.add_exception_handler(cls, _domain_error)
    app.add_exception_handler(Exception, _domain_error)
