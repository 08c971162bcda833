"""Registry databases for the monitoring tests: SQLite in ``tmp_path`` always, and a fresh
PostgreSQL database per test when ``SLIDEWATCH_TEST_DB_URL`` is set."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from tests.conftest import require


def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of ``server_url``; drop it afterwards."""
    import sqlalchemy as sa

    name = f"swmon_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A registry URL on an empty database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    require(bool(server), "no PostgreSQL URL")
    yield from fresh_postgres_database(server)


class Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[dict[str, Any], str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.append((body, self.headers["Idempotency-Key"]))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("R", (Receiver,), {"answers": [500, 500], "received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The two-date synthetic catalogue (read only)."""
    from slidewatch.synthetic import write_example

    return write_example(tmp_path_factory.mktemp("example"))
