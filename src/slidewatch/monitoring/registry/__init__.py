"""The registry: one database (any SQLAlchemy URL) that is the single source of truth of
monitoring — AOIs, runs, landslides, detections, changes, alerts and the delivery outbox.

Modules: ``tables`` (the ORM), ``migrations/`` (Alembic, run on open), ``database``
(:class:`Registry`: open, migrate, sessions, AOIs, reads for the API), ``aois`` (an AOI's
settings and their checks), ``runs`` (run rows claimed once, AOI look locks, heartbeats),
``counts`` (landslides per change kind: the one count).
"""

from slidewatch.monitoring.registry.database import Registry, upgrade

__all__ = ["Registry", "upgrade"]
