"""API keys: writes need one in the ``X-API-Key`` header; reads only when the settings say so.

Keys are compared with :func:`hmac.compare_digest` against every configured key (no early exit),
so the time taken does not tell how much of a key was right.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from slidewatch.service.problems import Forbidden, Unauthorized
from slidewatch.service.settings import ServiceSettings

HEADER = "X-API-Key"
_header = APIKeyHeader(name=HEADER, auto_error=False, description="A key from SLIDEWATCH_API_KEYS")


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Whether ``given`` is one of ``keys``, in time independent of where they differ."""
    given_bytes = given.encode("utf-8", "surrogateescape")
    found = False
    for key in keys:
        found |= hmac.compare_digest(given_bytes, key.encode("utf-8"))
    return found


def check_key(given: str | None, settings: ServiceSettings) -> None:
    """Raise :class:`Unauthorized` (no key) or :class:`Forbidden` (wrong key, or none set)."""
    if not given:
        raise Unauthorized(f"this request needs an API key; send it in the {HEADER} header")
    if not settings.keys:
        raise Forbidden("this server accepts no API keys; set SLIDEWATCH_API_KEYS and restart it")
    if not key_matches(given, settings.keys):
        raise Forbidden(f"the {HEADER} given is not valid; use a key from SLIDEWATCH_API_KEYS")


def settings_of(request: Request) -> ServiceSettings:
    """The settings of the app serving ``request``."""
    settings: ServiceSettings = request.app.state.settings
    return settings


def holds_key(request: Request) -> bool:
    """Whether ``request`` carries a valid key (reads show masked secrets only then)."""
    given = request.headers.get(HEADER)
    return bool(given) and key_matches(given or "", settings_of(request).keys)


def require_write_key(
    request: Request, given: Annotated[str | None, Depends(_header)] = None
) -> None:
    """Dependency of every write route."""
    check_key(given, settings_of(request))


def require_read_access(
    request: Request, given: Annotated[str | None, Depends(_header)] = None
) -> None:
    """Dependency of every read route: open unless ``read_requires_key``."""
    settings = settings_of(request)
    if settings.read_requires_key:
        check_key(given, settings)


WriteKey = Depends(require_write_key)
ReadAccess = Depends(require_read_access)


def key_name(given: str | None, settings: ServiceSettings) -> str:
    """The name of the valid key ``given`` (what a review records as who); the errors of
    :func:`check_key` otherwise."""
    check_key(given, settings)
    named = [name for name, key in settings.named_keys if key_matches(given or "", (key,))]
    return named[0]


def require_key_name(
    request: Request, given: Annotated[str | None, Depends(_header)] = None
) -> str:
    """Dependency of writes that record who: the key's name."""
    return key_name(given, settings_of(request))


KeyName = Annotated[str, Depends(require_key_name)]
