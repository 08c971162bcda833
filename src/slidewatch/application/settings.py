"""slidewatch's settings, read once by pydantic-settings from ``SLIDEWATCH_*`` (and the flags
of whichever edge runs: a command, ``serve``, the scheduler).

Nothing else in slidewatch reads a ``SLIDEWATCH_*`` environment variable. :class:`Settings`
holds the knobs of every command, with a home or without (the engine table, the dataset
mirrors); each edge applies them once at start (:meth:`Settings.apply`).
:class:`HomeSettings` adds a monitoring home: the CLI builds it from its flags (flags win
over the environment), the service extends it
(:class:`slidewatch.service.settings.ServiceSettings`), and the scheduler hands the server's
settings object to the run it starts. Where the home keeps its registry, archive, work, jobs
and models is decided by :class:`HomeLayout`, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from slidewatch.acquisition.aoi import DEFAULT_MAX_AREA_KM2
from slidewatch.errors import ConfigError, unknown_name

if TYPE_CHECKING:
    from slidewatch.monitoring.alerts import SmtpSettings
    from slidewatch.monitoring.alerts.targets import TargetRules
    from slidewatch.monitoring.look import MonitorConfig

DEFAULT_HOME = Path("slidewatch-data")
REGISTRY_FILE = "registry.db"
ARCHIVE_DIR = "archive"
WORK_DIR = "work"
JOBS_DIR = "jobs"
ARCHIVE_JOBS_DIR = "_jobs"
MODELS_DIR = "models"


class Settings(BaseSettings):
    """The knobs of every command: env ``SLIDEWATCH_<NAME>``, or keyword arguments."""

    model_config = SettingsConfigDict(env_prefix="SLIDEWATCH_", extra="ignore", frozen=True)

    engine_table: Path | None = None
    """A JSON file of engine measurements overriding the shipped table, which ``auto``
    engines choose by (:func:`slidewatch.inference.engine.use_engine_table`)."""
    l4s_base_url: str | None = None
    """A mirror's folder of the Landslide4Sense files (``data download --base-url``)."""
    l4s_api_url: str | None = None
    """The listing of their sizes and checksums (``data download --api-url``)."""
    max_aoi_km2: float = Field(default=DEFAULT_MAX_AREA_KM2, gt=0)
    """Largest AOI (km²) that ``fetch``, ``monitor add``, ``POST /aois`` and detection jobs
    accept: one limit, checked by :func:`slidewatch.acquisition.aoi.check_area`."""

    @classmethod
    def read(cls, **flags: Any) -> Self:
        """The settings: the flags given (not None) over ``SLIDEWATCH_*``; a bad value is a
        ConfigError naming its setting (never pydantic's traceback)."""
        try:
            return cls(**{k: v for k, v in flags.items() if v is not None})
        except ValidationError as exc:
            raise ConfigError(settings_problems(exc)) from None
        except SettingsError as exc:  # a value that is not the JSON its setting needs
            field = re.search(r'field "(\w+)"', str(exc))
            name = f"SLIDEWATCH_{field.group(1).upper()}" if field else "a SLIDEWATCH_* setting"
            raise ConfigError(f"{name}: not valid JSON ({exc}); give a JSON object") from None

    def apply(self) -> None:
        """Hand the process-wide knobs to the library (each edge, once at start); a bad
        engine table is a ConfigError here, naming the setting."""
        from slidewatch.inference.engine import use_engine_table

        use_engine_table(self.engine_table)


class HomeSettings(Settings):
    """A monitoring home: env ``SLIDEWATCH_<NAME>`` (e.g. ``SLIDEWATCH_HOME``,
    ``SLIDEWATCH_SMTP_HOST``), or keyword arguments (the edges' flags)."""

    home: Path = DEFAULT_HOME
    """Folder of the default registry (SQLite), archive, work, jobs and models."""
    db_url: SecretStr | None = None
    """SQLAlchemy URL of the registry (PostgreSQL for several processes or machines);
    default: SQLite under ``home``. Secret: it may hold a password."""
    storage: str | None = None
    """Archive root: a folder or an fsspec URL (``s3://``, ``gs://``); default: under ``home``."""
    work_dir: Path | None = None
    """Where runs compute their products before archiving; default ``home/work``."""
    jobs_dir: Path | None = None
    """Where OGC jobs are kept; default beside a local archive (servers sharing it share
    jobs), else ``home/jobs``."""
    models_dir: Path | None = None
    """Folder of named models (``<models_dir>/<name>/model.json``); default ``home/models``."""

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_from: str = "slidewatch@localhost"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    webhook_allow_networks: str = ""
    """Comma-separated networks (CIDR) webhooks may reach although internal, e.g.
    ``127.0.0.0/8,10.0.0.0/8`` for on-premise receivers; empty: only public addresses."""
    max_alert_targets: int = Field(default=10, gt=0, le=1000)
    """Most webhooks plus e-mail recipients of one AOI."""

    public_url: str = ""
    """The base URL under which ``serve`` is reached (links in alerts); empty: relative."""
    api_keys: SecretStr = SecretStr("")
    """Comma-separated keys accepted in the ``X-API-Key`` header for writes; none = no writes.
    An entry ``name:key`` names its key (a review records who by that name); an entry without
    a name is ``key1``, ``key2`` … by its place in the list."""
    sources: dict[str, dict[str, Any]] = {}
    """Imagery sources AOIs and jobs may name, as JSON: ``{"default": {"kind": "stac",
    "stac_url": ..., "collection": ...}}`` (``kind``: ``stac`` or ``gee``; the options of
    :class:`~slidewatch.acquisition.options.SourceConfig`, checked when read). Clients name a
    source; they never send a catalogue URL."""

    @field_validator("sources", mode="after")
    @classmethod
    def _sources_are_options(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from slidewatch.acquisition.options import SourceConfig

        for name, options in value.items():
            try:
                SourceConfig.from_dict(options)
            except (ConfigError, TypeError) as exc:
                raise ValueError(f"source {name!r}: {exc}") from None
        return value

    def check_models_dir(self) -> None:
        """A ConfigError when ``models_dir`` is set but is no folder (a server checks at
        start what clients will name models from)."""
        if self.models_dir is not None and not self.models_dir.is_dir():
            raise ConfigError(
                f"SLIDEWATCH_MODELS_DIR: {self.models_dir} is not a folder; give the folder "
                "that holds <name>/model.json, or unset it for HOME/models"
            )

    @field_validator("home", "work_dir", "jobs_dir", "models_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The API keys, stripped, empty ones dropped."""
        return tuple(key for _, key in self.named_keys)

    @property
    def named_keys(self) -> tuple[tuple[str, str], ...]:
        """``(name, key)`` of each API key (see :attr:`api_keys`)."""
        entries = [e.strip() for e in self.api_keys.get_secret_value().split(",") if e.strip()]
        named = []
        for i, entry in enumerate(entries, start=1):
            name, sep, key = entry.partition(":")
            named.append((name.strip(), key.strip()) if sep and key.strip() else (f"key{i}", entry))
        return tuple(named)

    @property
    def layout(self) -> HomeLayout:
        """Where this home keeps what (computed; nothing is created)."""
        return HomeLayout.of(self)

    @property
    def smtp(self) -> SmtpSettings:
        from slidewatch.monitoring.alerts import SmtpSettings

        password = self.smtp_password.get_secret_value() if self.smtp_password else None
        return SmtpSettings(host=self.smtp_host, port=self.smtp_port, sender=self.smtp_from,
                            user=self.smtp_user, password=password,
                            starttls=self.smtp_starttls)  # fmt: skip

    @property
    def webhook_targets(self) -> TargetRules:
        """Which webhook targets registration and delivery accept (the one rule)."""
        from slidewatch.monitoring.alerts.targets import TargetRules, parse_networks

        return TargetRules(parse_networks(self.webhook_allow_networks), self.max_alert_targets)

    def monitor_config(self) -> MonitorConfig:
        """The monitoring runner's configuration for this home (its folders created)."""
        from slidewatch.monitoring.look import MonitorConfig

        layout = self.layout.created()
        table = str(self.engine_table) if self.engine_table is not None else None
        return MonitorConfig(db_url=layout.registry_url, storage=layout.storage,
                             work_dir=str(layout.work_dir), smtp=self.smtp,
                             public_url=self.public_url, targets=self.webhook_targets,
                             engine_table=table)  # fmt: skip

    def source_options(self, name: str) -> dict[str, Any]:
        """The options of the configured source ``name``; ``default`` may be unconfigured."""
        if name in self.sources:
            return dict(self.sources[name])
        if name == "default" and not self.sources:
            return {}
        valid = sorted(self.sources) or ["(none configured)"]
        raise ConfigError(str(unknown_name("source", name, valid)))


def settings_problems(exc: ValidationError) -> str:
    """Each invalid setting named as its environment variable, with pydantic's reason."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"][:1]).upper()
        lines.append(f"SLIDEWATCH_{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines) + "; fix the setting (environment variable or flag)"


@dataclass(frozen=True)
class HomeLayout:
    """Where a home keeps its registry, archive, work, jobs and models."""

    home: Path
    registry_url: str
    """SQLAlchemy URL (``sqlite:///HOME/registry.db`` by default)."""
    storage: str
    """Archive root: an absolute folder, or an fsspec URL."""
    work_dir: Path
    jobs_dir: Path
    models_dir: Path

    @classmethod
    def of(cls, settings: HomeSettings) -> HomeLayout:
        from slidewatch.monitoring.archive.storage import filesystem

        home = settings.home.resolve()
        given = settings.storage or str(home / ARCHIVE_DIR)
        local = filesystem(given)[2]  # the archive's own rule: a local folder or a URL
        jobs = local / ARCHIVE_JOBS_DIR if local is not None else home / JOBS_DIR
        url = settings.db_url.get_secret_value() if settings.db_url else None
        return cls(
            home=home,
            registry_url=url or f"sqlite:///{home / REGISTRY_FILE}",
            storage=str(local) if local is not None else given,
            work_dir=(settings.work_dir or home / WORK_DIR).resolve(),
            jobs_dir=(settings.jobs_dir or jobs).resolve(),
            models_dir=(settings.models_dir or home / MODELS_DIR).resolve(),
        )

    @property
    def registry_shown(self) -> str:
        """The registry URL as messages show it: any password masked."""
        from slidewatch.redact import mask_password

        return mask_password(self.registry_url)

    def created(self) -> HomeLayout:
        """This layout with the home folder made (a SQLite registry needs its folder)."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self
