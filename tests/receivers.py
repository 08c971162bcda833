"""A webhook receiver for tests: keeps every POST's body and headers, answers 204.

Subclass it per test (``type("K", (Keeping,), {"received": []})``) so each server keeps its
own list."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import ClassVar


class Keeping(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, dict(self.headers.items())))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass
