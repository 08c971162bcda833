"""A small Landslide4Sense host on 127.0.0.1 for the download tests: files with HTTP Range,
a Zenodo-like files listing, a Hugging Face-like tree listing in pages, and faults on demand
(a transfer that breaks off once, a file whose bytes are wrong)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = 3
"""Entries per page of the tree listing (so that paging is exercised)."""


@dataclass
class Host:
    """What the server serves, and what it saw."""

    files: dict[str, bytes]
    break_once: set[str] = field(default_factory=set)
    """Paths whose first transfer stops halfway (the connection closes)."""
    corrupt: set[str] = field(default_factory=set)
    """Paths served with one byte changed."""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Range header) of every file request."""
    url: str = ""

    def md5(self, path: str) -> str:
        return "md5:" + hashlib.md5(self.files[path]).hexdigest()

    def zenodo_listing(self) -> dict[str, Any]:
        entries = [
            {"key": p, "size": len(b), "checksum": self.md5(p)} for p, b in self.files.items()
        ]
        return {"entries": entries}

    def tree(self, folder: str, page: int) -> tuple[list[dict[str, Any]], bool]:
        inside = sorted(p for p in self.files if p.startswith(folder + "/"))
        entries = [
            {"type": "file", "path": p, "size": len(self.files[p]),
             "lfs": {"oid": hashlib.sha256(self.files[p]).hexdigest(), "size": len(self.files[p])}}
            for p in inside[page * PAGE : (page + 1) * PAGE]
        ]  # fmt: skip
        return entries, (page + 1) * PAGE < len(inside)


def _handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, payload: Any, link: str | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if link:
                self.send_header("Link", f'<{link}>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path, _, query = self.path.lstrip("/").partition("?")
            if path == "api/files":
                return self._json(host.zenodo_listing())
            if path.startswith("api/tree/"):
                page = int(query.removeprefix("page=") or 0) if query else 0
                entries, more = host.tree(path.removeprefix("api/tree/"), page)
                nxt = f"{host.url}/{path}?page={page + 1}" if more else None
                return self._json(entries, nxt)
            if not path.startswith("files/") or path.removeprefix("files/") not in host.files:
                self.send_error(404)
                return
            name = path.removeprefix("files/")
            data = bytearray(host.files[name])
            if name in host.corrupt:
                data[len(data) // 2] ^= 0xFF
            wanted = self.headers.get("Range")
            host.requests.append((name, wanted))
            start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if name in host.break_once:
                host.break_once.discard(name)
                self.wfile.write(bytes(data[start : start + (len(data) - start) // 2]))
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(bytes(data[start:]))

    return Handler


@contextmanager
def serving(host: Host) -> Iterator[Host]:
    """Serve ``host`` on a free 127.0.0.1 port: files under ``URL/files``, listings under
    ``URL/api/files`` (Zenodo) and ``URL/api/tree/FOLDER`` (Hugging Face)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
