"""Where the registry and the archive are: explicit settings, else folders under ``home``."""

from __future__ import annotations

from pathlib import Path

from slidewatch.errors import ConfigError
from slidewatch.service.settings import ServiceSettings

DEFAULT_DB_FILE = "registry.db"
DEFAULT_ARCHIVE = "archive"


def registry_url(settings: ServiceSettings) -> str:
    """The SQLAlchemy URL of the registry (``home/registry.db`` by default)."""
    if settings.db_url:
        return settings.db_url
    settings.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(settings.home / DEFAULT_DB_FILE).resolve()}"


def archive_root(settings: ServiceSettings) -> Path:
    """The archive's local root folder (``home/archive`` by default)."""
    storage = settings.storage or str(settings.home / DEFAULT_ARCHIVE)
    if "://" in storage and not storage.startswith("file://"):
        raise ConfigError(
            f"storage {storage!r}: the server reads tiles from a local archive only; "
            "mount the bucket or give a local folder with --storage"
        )
    root = Path(storage.removeprefix("file://")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def monitor_options(settings: ServiceSettings) -> dict[str, str]:
    """Keyword arguments of the monitoring runner's config for this server's registry/archive."""
    work = settings.home / "work"
    return {
        "db_url": registry_url(settings),
        "storage": str(archive_root(settings)),
        "work_dir": str(work.resolve()),
    }
