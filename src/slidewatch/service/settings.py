"""The service's settings: pydantic-settings with the ``SLIDEWATCH_`` environment prefix.

Every knob of ``slidewatch serve`` lives here; the command line only overrides a few of them.
The registry (``db_url``) and the archive (``storage``) default to a folder, ``home``, as the
``monitor`` commands do, so the server and ``slidewatch monitor`` see the same data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slidewatch.errors import ConfigError, unknown_name


class ServiceSettings(BaseSettings):
    """Settings of one server process (env ``SLIDEWATCH_<NAME>``, e.g. ``SLIDEWATCH_API_KEYS``)."""

    model_config = SettingsConfigDict(env_prefix="SLIDEWATCH_", extra="ignore", frozen=True)

    home: Path = Path("slidewatch-data")
    """Folder of the default registry (SQLite) and archive."""
    db_url: str | None = None
    """SQLAlchemy URL of the registry; default: SQLite under ``home``."""
    storage: str | None = None
    """Archive root (a local folder); default: under ``home``."""
    models_dir: Path | None = None
    """Folder of named models for detection jobs (``<models_dir>/<name>/model.json``);
    default ``home/models``."""

    api_keys: str = ""
    """Comma-separated keys accepted in the ``X-API-Key`` header for writes; none = no writes."""
    read_requires_key: bool = False
    """Close reads too (every route but ``/health`` then needs a key)."""
    cors_origins: str = ""
    """Comma-separated origins allowed by CORS; empty = CORS off."""

    max_body_bytes: int = Field(default=2_000_000, gt=0)
    """Largest request body accepted (413 above)."""
    max_aoi_area_km2: float = Field(default=50_000.0, gt=0)
    """Largest AOI accepted (413 above)."""
    max_aoi_vertices: int = Field(default=20_000, gt=3)
    """Most vertices of an AOI geometry (413 above)."""
    max_features: int = Field(default=100_000, gt=0)
    """Most features returned by one detections or changes request."""

    sources: dict[str, dict[str, Any]] = {}
    """Imagery sources AOIs and jobs may name, as JSON: ``{"default": {"source": "stac",
    "stac_url": ..., "collection": ...}}`` (options exactly as ``fetch`` takes them). Clients
    name a source; they never send a catalogue URL."""

    label_datasets: dict[str, Path] = {}
    """Patch datasets offered by the labeling page at ``/label`` (JSON: name -> folder)."""
    label_models: dict[str, Path] = {}
    """Models suggesting masks on the labeling page (JSON: dataset name -> model folder)."""

    job_workers: int = Field(default=1, ge=1, le=64)
    """Worker processes for detection jobs and runs requested through the API."""
    scheduler: bool = False
    """Run the monitoring schedule inside the server process."""
    scheduler_interval_s: float = Field(default=60.0, gt=0)
    """Seconds between two looks at what is due."""

    basemap_url: str = ""
    """Optional XYZ raster tile URL for a base map; empty = none (works offline)."""

    @field_validator("home", "models_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The API keys, stripped, empty ones dropped."""
        return tuple(k.strip() for k in self.api_keys.split(",") if k.strip())

    @property
    def origins(self) -> tuple[str, ...]:
        """CORS origins, empty when CORS is off."""
        return tuple(o.strip() for o in self.cors_origins.split(",") if o.strip())

    @property
    def models_root(self) -> Path:
        """Where named models for detection jobs are looked up."""
        return self.models_dir if self.models_dir is not None else self.home / "models"

    def source_options(self, name: str) -> dict[str, Any]:
        """The options of the configured source ``name``; ``default`` may be unconfigured."""
        if name in self.sources:
            return dict(self.sources[name])
        if name == "default" and not self.sources:
            return {}
        valid = sorted(self.sources) or ["(none configured)"]
        raise ConfigError(str(unknown_name("source", name, valid)))
