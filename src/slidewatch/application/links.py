"""Links a client can open: every URL slidewatch hands out (API answers, job results, alert
payloads, the map's deep links) is built here from the one ``public_url`` setting.

With ``SLIDEWATCH_PUBLIC_URL`` (the base under which ``serve`` is reached, e.g.
``https://slides.example.org/watch``) a link is absolute; without it, it is the path relative
to that base (``/runs/7/products/change.tif``). No link is ever a path of the server's disk.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode


def public_link(base: str, path: str, **query: str | int | None) -> str:
    """The URL of ``path`` (starting with ``/``) under ``base`` (empty: ``path`` itself),
    with ``query`` parameters (None ones left out), e.g.
    ``public_link("https://x.org/sw", "/", aoi="hills", run=3)`` →
    ``https://x.org/sw/?aoi=hills&run=3``."""
    if not path.startswith("/"):
        raise ValueError(f"link path {path!r} must start with '/'")
    url = base.rstrip("/") + quote(path, safe="/{}")
    params = {k: str(v) for k, v in query.items() if v is not None}
    return f"{url}?{urlencode(params)}" if params else url


def run_link(base: str, run_id: int, *parts: str) -> str:
    """``/runs/{id}[/parts…]`` under ``base``."""
    return public_link(base, "/".join([f"/runs/{run_id}", *parts]))


def product_link(base: str, run_id: int, name: str) -> str:
    """The URL of a run's archived product ``name`` (``GET /runs/{id}/products/{name}``)."""
    return run_link(base, run_id, "products", name)


def map_link(
    base: str, aoi: str, run_id: int | None = None, landslide_id: int | None = None
) -> str:
    """The web map opened on an AOI (and a run, and a landslide's popup)."""
    return public_link(base, "/", aoi=aoi, run=run_id, landslide=landslide_id)
