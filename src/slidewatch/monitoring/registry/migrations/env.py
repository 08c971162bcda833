"""Alembic environment of the monitoring registry.

Run by :func:`slidewatch.monitoring.registry.upgrade` with an open connection in
``config.attributes["connection"]``; never from an ``alembic.ini`` (the package ships no ini).
"""

from __future__ import annotations

from alembic import context

from slidewatch.monitoring.registry.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
