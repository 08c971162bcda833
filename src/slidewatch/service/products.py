"""``GET /runs/{id}/products/{name}``: a run's archived files as they are, with HTTP Range.

Only the files the registry names for that run are served, each admitted by the archive
(inside its root, a regular file); GDAL reads a COG remotely through ``/vsicurl/`` with Range
requests. A local file is Starlette's :class:`~starlette.responses.FileResponse` (which answers
Range requests itself); a file of an fsspec archive (``s3://`` …) is read by the byte range
asked, one range per request (what GDAL sends), here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from fastapi import Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from slidewatch.monitoring.archive import Archive, ProductNotFound
from slidewatch.monitoring.archive.catalogue import MEDIA_TYPES
from slidewatch.service.problems import NotFound

STAC_ITEM = "stac_item"
"""The product name of a run's STAC item (its assets' ``./name`` hrefs resolve beside it)."""
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def media_type(name: str, stored: str) -> str:
    """The content type of a product by its stored file's suffix (the STAC item: GeoJSON)."""
    if name == STAC_ITEM:
        return "application/geo+json"
    return MEDIA_TYPES.get(PurePosixPath(stored).suffix.lower(), "application/octet-stream")


def stored_product(products: Mapping[str, Any], name: str) -> str:
    """Where the registry says the run's product ``name`` is; :class:`NotFound` (listing the
    run's products) for any other name."""
    stored = products.get(name)
    if not isinstance(stored, str):
        names = ", ".join(sorted(k for k, v in products.items() if isinstance(v, str)))
        raise NotFound(f"this run has no product {name!r}; its products: {names or 'none'}")
    return stored


def product_response(
    request: Request, archive: Archive, products: Mapping[str, Any], name: str
) -> Response:
    """The product ``name`` of a run (its ``products`` as the registry names them)."""
    stored = stored_product(products, name)
    try:
        product = archive.admit(stored)
    except ProductNotFound:
        raise NotFound(f"the product {name!r} is missing from the archive") from None
    kind = media_type(name, stored)
    headers = {"Cache-Control": "public, max-age=300"}
    if product.fs is None:
        return FileResponse(product.path, media_type=kind, headers=headers,
                            content_disposition_type="inline", filename=name)  # fmt: skip
    return _remote_response(request, product.fs, product.path, kind, headers)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (inclusive) of a single-range ``Range`` header for a file of ``size``
    bytes; None for no header or one this server answers with the whole file (several
    ranges, other units); :class:`ValueError` for a range outside the file (416)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError(f"range {header!r} outside a file of {size} bytes")
    return start, end


def _remote_response(
    request: Request, fs: Any, path: str, kind: str, headers: dict[str, str]
) -> Response:
    size = int(fs.info(path)["size"])
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        asked = byte_range(request.headers.get("range"), size)
    except ValueError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if request.method == "HEAD":
        headers["Content-Length"] = str(size)
        return Response(status_code=200, media_type=kind, headers=headers)
    if asked is None:
        return StreamingResponse(_chunks(fs, path, 0, size), media_type=kind,
                                 headers={**headers, "Content-Length": str(size)})  # fmt: skip
    start, end = asked
    body = fs.cat_file(path, start=start, end=end + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(body, status_code=206, media_type=kind, headers=headers)


def _chunks(fs: Any, path: str, start: int, stop: int) -> Iterator[bytes]:
    with fs.open(path, "rb") as f:
        f.seek(start)
        left = stop - start
        while left > 0:
            data = f.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data
