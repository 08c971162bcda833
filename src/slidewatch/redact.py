"""How secrets are shown: the one place that masks them.

URLs (webhooks with their tokens, catalogue URLs, database URLs with their passwords) are shown
to clients as ``scheme://host/…``, e-mail addresses as ``…@domain``; messages to the operator
show database URLs with the password masked (:func:`mask_password`). :func:`redact` masks
every URL and e-mail address inside a free text (an error message, a failed run's reason, a
job's result) so such text can leave the server; :func:`mask_url` and :func:`mask_email` mask
one value shown to a key holder.
"""

from __future__ import annotations

import re
from typing import Any

ELLIPSIS = "…"
_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*)://([^\s'\"<>()\[\]{},]*)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")


def mask_url(url: str) -> str:
    """``https://user:pw@host:8080/hook?token=x`` → ``https://host/…``."""
    match = _URL.match(url.strip())
    if match is None:
        return ELLIPSIS
    scheme, rest = match.groups()
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = authority.rsplit("@", 1)[-1]
    host = host if host.startswith("[") else host.split(":", 1)[0]
    return f"{scheme}://{host}/{ELLIPSIS}"


_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*):[^@\s/]*@")


def mask_password(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` as ``scheme://user:***@`` (a database
    URL in a message keeps its host, port and database: what an operator needs to fix it)."""
    return _PASSWORD.sub(r"\1:***@", text)


def mask_email(address: str) -> str:
    """``ops@example.org`` → ``…@example.org``."""
    return f"{ELLIPSIS}@{address.rsplit('@', 1)[-1]}" if "@" in address else ELLIPSIS


def _mask_match(match: re.Match[str]) -> str:
    url = match.group(0)
    kept = url.rstrip(".,;:!?")  # a sentence's punctuation after the URL stays
    return mask_url(kept) + url[len(kept) :]


def redact(text: str) -> str:
    """``text`` with every URL and e-mail address in it masked."""
    masked = _URL.sub(_mask_match, text)
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), masked)


def redact_all(value: Any) -> Any:
    """:func:`redact` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(item) for item in value]
    return value
