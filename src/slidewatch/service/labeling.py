"""The labeling page and its JSON/PNG API, as one FastAPI router.

Mounted by ``slidewatch label DATA_DIR`` (one dataset) and by ``slidewatch serve`` (every
dataset of its registry) at ``/label``: the page is ``/label?dataset=NAME``, the API
``/label/api/{dataset}/...``. Domain errors are answered here (404 for an unknown dataset,
patch or band combination, 409 for a save from a stale version, 422 for anything else a
client sent wrong), so the router behaves the same in any app. Masks travel as base64 of
H×W bytes (row-major, 0/1). No torch: suggestions use the ONNX engine.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from slidewatch.errors import RegistryError, SlidewatchError
from slidewatch.labeling.store import VersionConflict
from slidewatch.labeling.views import DEFAULT_HIGH_PERCENT, DEFAULT_LOW_PERCENT, png_bytes
from slidewatch.labeling.workspace import PatchNotFound, Workspace

ASSETS = {
    "label.js": "text/javascript",
    "mask-tools.js": "text/javascript",
    "label.css": "text/css",
}
"""The page's files (package data under ``service/static/label``), served by name only."""
MAX_MASK_PIXELS = 4096 * 4096


class SaveBody(BaseModel):
    """A mask sent by the page."""

    mask: str = Field(description="base64 of height×width bytes, row-major, each 0 or 1")
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    base_version: int = Field(ge=0, description="the version the annotator started from")
    annotator: str = Field(default="", max_length=100)
    seconds: float | None = Field(default=None, ge=0, le=7 * 86400)
    from_suggestion: bool = False
    state: Literal["done", "in_progress"] = "done"


class SkipBody(BaseModel):
    """Skipping a patch (or re-opening a done one for review)."""

    base_version: int = Field(ge=0)
    annotator: str = Field(default="", max_length=100)
    seconds: float | None = Field(default=None, ge=0, le=7 * 86400)


class LabelDatasets:
    """Dataset name -> :class:`Workspace`, made on first use from a folder mapping.

    ``folders`` is a mapping or a function returning one (so a service can read its
    settings each time); ``models`` optionally gives a model directory per dataset name.
    """

    def __init__(
        self,
        folders: Mapping[str, Path] | Callable[[], Mapping[str, Path]],
        models: Mapping[str, Path] | None = None,
        annotator: str | None = None,
        start_from: str = "mask",
    ) -> None:
        self._folders = folders
        self._models = dict(models or {})
        self._open: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        self.annotator = annotator or _user()
        self.start_from = start_from

    def names(self) -> list[str]:
        """The registered dataset names."""
        return sorted(self._mapping())

    def _mapping(self) -> Mapping[str, Path]:
        return self._folders() if callable(self._folders) else self._folders

    def get(self, name: str) -> Workspace:
        """The workspace of ``name``; RegistryError listing the names when unknown."""
        folders = self._mapping()
        if name not in folders:
            raise RegistryError(
                f"unknown dataset {name!r}; valid names: {', '.join(sorted(folders)) or 'none'}"
            )
        with self._lock:
            ws = self._open.get(name)
            if ws is None or ws.root != Path(folders[name]):
                model = self._models.get(name)
                start = self.start_from if model is not None else "mask"
                ws = Workspace(Path(folders[name]), model, name=name, start_from=start)
                self._open[name] = ws
            return ws


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "anonymous"


@contextmanager
def _http_errors() -> Iterator[None]:
    try:
        yield
    except (PatchNotFound, RegistryError) as exc:
        raise HTTPException(404, str(exc)) from None
    except SlidewatchError as exc:
        raise HTTPException(422, str(exc)) from None


def encode_mask(mask: np.ndarray) -> str:
    """base64 of the H×W uint8 bytes."""
    return base64.b64encode(np.ascontiguousarray(mask, dtype=np.uint8).tobytes()).decode()


def decode_mask(text: str, height: int, width: int) -> np.ndarray:
    """The H×W uint8 mask of a base64 string (HTTP 422 when malformed)."""
    if height * width > MAX_MASK_PIXELS:
        raise HTTPException(422, f"mask {height}×{width} is larger than any patch; send a patch")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, "mask is not valid base64; send base64 of H×W bytes") from None
    if len(raw) != height * width:
        raise HTTPException(
            422, f"mask holds {len(raw)} bytes, not height×width = {height * width}; resend"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


def _page(request: Request, datasets: LabelDatasets, dataset: str | None) -> HTMLResponse:
    names = datasets.names()
    if dataset is None and len(names) == 1:
        dataset = names[0]
    base = request.url.path.rstrip("/")
    config = {"api": f"{base}/api", "dataset": dataset, "datasets": names}
    config["annotator"] = datasets.annotator
    text = resources.files("slidewatch.service").joinpath("static/label/index.html").read_text()
    blob = json.dumps(config).replace("<", "\\u003c")
    return HTMLResponse(text.replace("{{CONFIG}}", blob).replace("{{ASSETS}}", f"{base}/assets"))


def labeling_router(
    datasets: LabelDatasets, prefix: str = "/label", write_dependencies: Sequence[Any] = ()
) -> APIRouter:
    """The page at ``prefix`` and its API under ``prefix/api``.

    ``write_dependencies`` (FastAPI ``Depends(...)``) guard the routes that write (save,
    skip, reopen), e.g. the service's API-key check; reads stay open.
    """
    router = APIRouter(prefix=prefix, tags=["labeling"])
    guard = list(write_dependencies)

    @router.get("", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request, dataset: str | None = None) -> HTMLResponse:
        return _page(request, datasets, dataset)

    @router.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, f"no asset {name!r}")
        data = resources.files("slidewatch.service").joinpath(f"static/label/{name}").read_bytes()
        return Response(data, media_type=ASSETS[name])

    @router.get("/api/datasets")
    def list_datasets() -> dict[str, Any]:
        return {"datasets": datasets.names(), "annotator": datasets.annotator}

    @router.get("/api/{dataset}/patches")
    def patches(dataset: str, order: Literal["file", "uncertain"] = "file") -> dict[str, Any]:
        with _http_errors():
            return datasets.get(dataset).listing(order)

    @router.get("/api/{dataset}/patch/{key:path}")
    def describe(dataset: str, key: str) -> dict[str, Any]:
        with _http_errors():
            return datasets.get(dataset).describe(key)

    @router.get("/api/{dataset}/view/{combo}/{key:path}", response_class=Response)
    def view(
        dataset: str,
        combo: str,
        key: str,
        low: float = Query(DEFAULT_LOW_PERCENT, ge=0, le=100),
        high: float = Query(DEFAULT_HIGH_PERCENT, ge=0, le=100),
        context: bool = False,
    ) -> Response:
        with _http_errors():
            pixels = datasets.get(dataset).view(key, combo, low, high, context)
        return Response(png_bytes(pixels), media_type="image/png")

    @router.get("/api/{dataset}/mask/{key:path}")
    def mask(
        dataset: str, key: str, start_from: Literal["mask", "suggestion"] | None = None
    ) -> dict[str, Any]:
        with _http_errors():
            loaded = datasets.get(dataset).start_mask(key, start_from)
        h, w = loaded.mask.shape
        return {"version": loaded.version, "state": loaded.state, "source": loaded.source,
                "problem": loaded.problem, "height": h, "width": w,
                "mask": encode_mask(loaded.mask)}  # fmt: skip

    @router.get("/api/{dataset}/suggestion/{key:path}")
    def suggestion(dataset: str, key: str) -> dict[str, Any]:
        with _http_errors():
            s = datasets.get(dataset).suggestion(key)
        h, w = s.probability.shape
        probability = np.round(np.clip(s.probability, 0, 1) * 255).astype(np.uint8)
        return {"threshold": s.threshold, "uncertainty": s.uncertainty, "height": h, "width": w,
                "mask": encode_mask(s.mask), "probability": encode_mask(probability)}  # fmt: skip

    @router.put("/api/{dataset}/mask/{key:path}", dependencies=guard)
    def save(dataset: str, key: str, body: SaveBody) -> Any:
        array = decode_mask(body.mask, body.height, body.width)
        action = "save" if body.state == "done" else "draft"
        with _http_errors():
            ws = datasets.get(dataset)
            try:
                entry = ws.save(key, array, body.base_version, action,
                                body.annotator or datasets.annotator, body.seconds,
                                body.from_suggestion)  # fmt: skip
            except VersionConflict as exc:
                return _conflict(exc, ws, key)
        return vars(entry)

    @router.post("/api/{dataset}/skip/{key:path}", dependencies=guard)
    def skip(dataset: str, key: str, body: SkipBody) -> Any:
        with _http_errors():
            ws = datasets.get(dataset)
            try:
                who = body.annotator or datasets.annotator
                entry = ws.save(key, None, body.base_version, "skip", who, body.seconds, False)
            except VersionConflict as exc:
                return _conflict(exc, ws, key)
        return vars(entry)

    @router.post("/api/{dataset}/reopen/{key:path}", dependencies=guard)
    def reopen(dataset: str, key: str, body: SkipBody) -> Any:
        with _http_errors():
            ws = datasets.get(dataset)
            try:
                entry = ws.reopen(key, body.base_version, body.annotator or datasets.annotator)
            except VersionConflict as exc:
                return _conflict(exc, ws, key)
        return vars(entry)

    return router


def _conflict(exc: VersionConflict, ws: Workspace, key: str) -> JSONResponse:
    """409 with both versions: the current one (its mask) and where the refused one is kept."""
    current = ws.start_mask(key)
    body = {
        "detail": str(exc),
        "current": {**vars(exc.current), "mask": encode_mask(current.mask)},
        "kept": exc.kept,
    }
    return JSONResponse(body, status_code=409)


def label_app(datasets: LabelDatasets) -> Any:
    """A FastAPI app with only the labeling router (``slidewatch label``); ``/`` opens the page."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from slidewatch.service.api_docs import docs_router

    app = FastAPI(title="slidewatch label", docs_url=None, redoc_url=None,
                  openapi_url="/label/openapi.json")  # fmt: skip
    app.include_router(labeling_router(datasets))
    app.include_router(docs_router("/label/docs", "/label/openapi.json", app.title))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/label")

    return app
