"""Registry databases for the monitoring tests: SQLite in ``tmp_path`` always, and a fresh
PostgreSQL database per test when ``SLIDEWATCH_TEST_DB_URL`` is set."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

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
