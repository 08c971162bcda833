"""A minimal STAC API (landing page, conformance, /search GET and POST) on 127.0.0.1,
serving items from memory, with injectable faults (5xx answers, slow answers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CONFORMS = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
]


@dataclass
class Faults:
    """``fail_next`` requests answer ``status``; every request sleeps ``delay_s``."""

    fail_next: int = 0
    status: int = 503
    delay_s: float = 0.0
    requests: list[str] = field(default_factory=list)


def _parse_dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _select(items: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    from shapely.geometry import box, shape

    out = []
    area = shape(body["intersects"]) if body.get("intersects") else None
    if body.get("bbox"):
        area = box(*[float(v) for v in body["bbox"]])
    interval = body.get("datetime")
    if isinstance(interval, str):
        interval = interval.split("/")
    for item in items:
        if body.get("collections") and item["collection"] not in body["collections"]:
            continue
        if area is not None and not shape(item["geometry"]).intersects(area):
            continue
        if interval:
            when = _parse_dt(item["properties"]["datetime"])
            if not _parse_dt(interval[0]) <= when <= _parse_dt(interval[1]):
                continue
        out.append(item)
    return out


def make_app(items: list[dict[str, Any]], faults: Faults) -> Any:
    app = FastAPI()

    @app.middleware("http")
    async def inject(request: Request, call_next: Any) -> Any:
        faults.requests.append(f"{request.method} {request.url.path}")
        if faults.delay_s:
            time.sleep(faults.delay_s)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return JSONResponse({"detail": "injected fault"}, status_code=faults.status)
        return await call_next(request)

    def landing(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {
            "type": "Catalog",
            "id": "test",
            "stac_version": "1.0.0",
            "description": "test",
            "conformsTo": CONFORMS,
            "links": [
                {"rel": "self", "href": f"{base}/", "type": "application/json"},
                {"rel": "root", "href": f"{base}/", "type": "application/json"},
                {
                    "rel": "search",
                    "href": f"{base}/search",
                    "method": "GET",
                    "type": "application/geo+json",
                },
                {
                    "rel": "search",
                    "href": f"{base}/search",
                    "method": "POST",
                    "type": "application/geo+json",
                },
            ],
        }

    app.get("/")(landing)

    @app.get("/conformance")
    def conformance() -> dict[str, Any]:
        return {"conformsTo": CONFORMS}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        found = _select(items, body)
        return {"type": "FeatureCollection", "features": found, "links": []}

    @app.post("/search")
    async def search_post(request: Request) -> dict[str, Any]:
        return answer(await request.json())

    @app.get("/search")
    def search_get(request: Request) -> dict[str, Any]:
        q = dict(request.query_params)
        body: dict[str, Any] = {}
        if "collections" in q:
            body["collections"] = q["collections"].split(",")
        if "intersects" in q:
            body["intersects"] = json.loads(q["intersects"])
        if "bbox" in q:
            body["bbox"] = q["bbox"].split(",")
        if "datetime" in q:
            body["datetime"] = q["datetime"]
        return answer(body)

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(items: list[dict[str, Any]], faults: Faults) -> Iterator[str]:
    """Run the app with uvicorn in a thread; yield its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        make_app(items, faults), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
