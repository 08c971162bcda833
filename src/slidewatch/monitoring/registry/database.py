"""The registry: one database (any SQLAlchemy URL) holding AOIs, runs, landslides, changes,
alerts and the delivery outbox. It is the single source of truth; every process (CLI, Dask
worker, web service) opens it from its URL.

Opening upgrades the schema with the migrations shipped in the package, so an empty
database and one made by an earlier release both work.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from slidewatch.errors import ConfigError, RegistryError
from slidewatch.monitoring.registry.aois import AoiSettings, check_settings
from slidewatch.monitoring.registry.tables import Alert, Aoi, Change, Detection, Run, utcnow
from slidewatch.redact import mask_password

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
UPDATABLE = frozenset(AoiSettings.__dataclass_fields__) - {"name"}


def migrations_config(connection: Any) -> Config:
    """An Alembic config pointing at the migrations inside the package."""
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(files("slidewatch.monitoring.registry") / "migrations")
    )
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (``head``: this release's)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # SQLite alters a table by copying it: dropping the old copy with foreign
            # keys on would cascade to every row that refers to it (SQLite's own recipe:
            # keys off outside the transaction, checked before committing)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            command.upgrade(migrations_config(connection), revision)
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise ConfigError("registry migration left broken references; restore a backup")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


@functools.cache
def head_revision() -> str | None:
    """This release's newest migration (read from the package once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrations_config(None)).get_current_head()


def upgrade_if_needed(engine: Engine) -> None:
    """Upgrade to head unless the database is there already: one query instead of loading
    Alembic's environment, since every look and every worker task opens the registry."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None or current != head_revision():
        upgrade(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # cascades, as on PostgreSQL
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    # In WAL mode NORMAL syncs at checkpoints, not at every commit (3.4 ms each on the dev
    # machine, ~6 per run): a killed process loses nothing; a power cut may lose the last
    # commits, never consistency, and a lost run is simply looked at again (runs are
    # idempotent, products rewritten identically).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a patient lock timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


EMPTY_FILE_GRACE_S = 30.0
"""A zero-byte SQLite file younger than this may be a registry another process is creating."""


def _refuse_empty_file(url: str) -> None:
    """ConfigError for a SQLite URL naming a zero-byte file left there (SQLite would take
    it for an empty database and write a registry into whatever that file was meant to be)."""
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    path = Path(database) if database and database != ":memory:" else None
    if path is None or not path.is_file():
        return
    info = path.stat()
    if info.st_size == 0 and time.time() - info.st_mtime > EMPTY_FILE_GRACE_S:
        raise ConfigError(
            f"{path} is an empty file, not a slidewatch registry; remove it (a new registry "
            "is then created) or point --db/--home at the registry"
        )


class Registry:
    """The monitoring database. ``Registry(url)`` opens (and migrates) it.

    Query methods return ORM objects detached from their session with their attributes
    loaded (``to_dict()`` gives JSON), so callers need no session handling.
    """

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        _refuse_empty_file(url)
        try:
            self.engine = make_engine(url)
            if migrate:
                upgrade_if_needed(self.engine)
        except Exception as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(
                f"registry database {mask_password(url)} cannot be opened "
                f"({type(exc).__name__}: {mask_password(str(exc))}); "
                "check --db (a SQLAlchemy URL) and that the server is running"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    # AOIs ---------------------------------------------------------------------------
    def add_aoi(self, settings: AoiSettings) -> Aoi:
        """Register a new AOI; its name must be free."""
        check_settings(settings)
        if not NAME_PATTERN.fullmatch(settings.name):
            raise ConfigError(
                f"AOI name {settings.name!r}: use 1-64 lower-case letters, digits, - or _"
            )
        try:
            with self.session() as s:
                aoi = Aoi(**settings.to_columns())
                s.add(aoi)
        except IntegrityError as exc:
            raise ConfigError(
                f"AOI {settings.name!r} already exists; pick another name or remove it first"
            ) from exc
        return aoi

    def get_aoi(self, name: str) -> Aoi:
        with self.session() as s:
            aoi = s.scalar(select(Aoi).where(Aoi.name == name))
            if aoi is None:
                names = s.scalars(select(Aoi.name).order_by(Aoi.name)).all()
                raise RegistryError(
                    f"unknown AOI {name!r}; registered: {', '.join(names) or 'none'} "
                    "(add one with 'slidewatch monitor add')"
                )
            return aoi

    def list_aois(self, active: bool | None = None) -> list[Aoi]:
        with self.session() as s:
            query = select(Aoi).order_by(Aoi.name)
            if active is not None:
                query = query.where(Aoi.active == active)
            return list(s.scalars(query))

    def update_aoi(self, name: str, **changes: Any) -> Aoi:
        """Change some settings of an AOI (any field of :class:`AoiSettings` but its name)."""
        unknown = sorted(set(changes) - UPDATABLE)
        if unknown:
            raise ConfigError(
                f"cannot update {', '.join(unknown)}; updatable: {', '.join(sorted(UPDATABLE))}"
            )
        current = AoiSettings.from_row(self.get_aoi(name))
        merged = AoiSettings(**{**current.__dict__, **changes}).normalised()
        check_settings(merged)
        with self.session() as s:
            aoi = s.scalars(select(Aoi).where(Aoi.name == name)).one()
            for key, value in merged.to_columns().items():
                setattr(aoi, key, value)
        return aoi

    def delete_aoi(self, name: str) -> None:
        """Remove an AOI with its runs, landslides and alerts (archived products stay)."""
        aoi = self.get_aoi(name)
        with self.session() as s:
            s.delete(s.get_one(Aoi, aoi.id))

    # Runs and results -----------------------------------------------------------------
    def runs(self, name: str, limit: int | None = None) -> list[Run]:
        """Runs of an AOI, newest acquisition first."""
        aoi = self.get_aoi(name)
        with self.session() as s:
            query = (
                select(Run)
                .where(Run.aoi_id == aoi.id)
                .options(selectinload(Run.aoi))
                .order_by(Run.acquisition_date.desc(), Run.id.desc())
                .limit(limit)
            )
            return list(s.scalars(query))

    def run(self, run_id: int) -> Run:
        with self.session() as s:
            run = s.get(Run, run_id, options=[selectinload(Run.aoi)])
            if run is None:
                raise RegistryError(f"unknown run {run_id}; list runs with 'monitor history'")
            return run

    def detections_geojson(self, run_id: int) -> dict[str, Any]:
        """A run's landslides as a GeoJSON FeatureCollection (lon/lat)."""
        self.run(run_id)
        with self.session() as s:
            rows = s.scalars(select(Detection).where(Detection.run_id == run_id).order_by("id"))
            features = [
                _feature(d.geometry, landslide_id=d.landslide_id, area_m2=d.area_m2,
                         mean_probability=d.mean_probability)
                for d in rows
            ]  # fmt: skip
        return {"type": "FeatureCollection", "features": features}

    def changes_geojson(self, run_id: int) -> dict[str, Any]:
        """A run's changes against the previous run as a GeoJSON FeatureCollection."""
        self.run(run_id)
        with self.session() as s:
            rows = s.scalars(select(Change).where(Change.run_id == run_id).order_by("id"))
            features = [
                _feature(c.geometry, landslide_id=c.landslide_id, kind=c.kind,
                         area_m2=c.area_m2, changed_area_m2=c.changed_area_m2,
                         merged_from=c.merged_from or [], merged_into=c.merged_into_id,
                         split_from=c.split_from_id)
                for c in rows
            ]  # fmt: skip
        return {"type": "FeatureCollection", "features": features}

    def alerts_since(self, since: datetime, aoi: str | None = None) -> list[Alert]:
        """Alerts created at or after ``since`` (aware UTC), oldest first, with deliveries."""
        with self.session() as s:
            query = (
                select(Alert)
                .where(Alert.created_at >= since)
                .options(selectinload(Alert.deliveries))
                .order_by(Alert.created_at, Alert.id)
            )
            if aoi is not None:
                query = query.where(Alert.aoi_id == self.get_aoi(aoi).id)
            return list(s.scalars(query))


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


__all__ = ["Registry", "upgrade", "utcnow"]
