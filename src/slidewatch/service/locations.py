"""Where the registry and the archive are: explicit settings, else folders under ``home``."""

from __future__ import annotations

from pathlib import Path

from slidewatch.errors import ConfigError
from slidewatch.monitoring.archive import Archive
from slidewatch.service.settings import ServiceSettings

DEFAULT_DB_FILE = "registry.db"
DEFAULT_ARCHIVE = "archive"


def registry_url(settings: ServiceSettings) -> str:
    """The SQLAlchemy URL of the registry (``home/registry.db`` by default)."""
    if settings.db_url:
        return settings.db_url
    settings.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(settings.home / DEFAULT_DB_FILE).resolve()}"


def archive_root(settings: ServiceSettings) -> Archive:
    """The archive (``home/archive`` by default): a local folder or an fsspec URL."""
    storage = settings.storage or str(settings.home / DEFAULT_ARCHIVE)
    try:
        return Archive(storage)
    except (ImportError, ValueError) as exc:  # an unknown protocol or a missing backend
        raise ConfigError(
            f"storage {storage!r} cannot be opened ({exc}); give a local folder or an fsspec "
            "URL whose package is installed (s3fs for s3://, gcsfs for gs://)"
        ) from exc


def jobs_root(settings: ServiceSettings, archive: Archive) -> Path:
    """Where jobs are kept: beside a local archive (so servers sharing it share jobs), else
    under ``home``."""
    if archive.local is not None:
        return archive.local / "_jobs"
    return settings.home / "jobs"


def monitor_options(settings: ServiceSettings) -> dict[str, str]:
    """Keyword arguments of the monitoring runner's config for this server's registry/archive."""
    work = settings.home / "work"
    return {
        "db_url": registry_url(settings),
        "storage": archive_root(settings).url(),
        "work_dir": str(work.resolve()),
    }
