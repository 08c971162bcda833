"""The service's settings: the home's (:class:`~slidewatch.application.settings.HomeSettings`:
registry, archive, jobs, models, API keys, sources, SMTP, public URL) and the knobs of one
server process, all read by pydantic-settings with the ``SLIDEWATCH_`` environment prefix.

``slidewatch serve`` overrides a few of them from its flags; the server, the ``monitor``
commands and the scheduler so see the same home.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from slidewatch.application.settings import HomeSettings


class ServiceSettings(HomeSettings):
    """Settings of one server process (env ``SLIDEWATCH_<NAME>``, e.g. ``SLIDEWATCH_API_KEYS``)."""

    read_requires_key: bool = False
    """Close reads too (every route but ``/health`` then needs a key)."""
    cors_origins: str = ""
    """Comma-separated origins allowed by CORS; empty = CORS off."""

    max_body_bytes: int = Field(default=2_000_000, gt=0)
    """Largest request body accepted (413 above)."""
    max_aoi_vertices: int = Field(default=20_000, gt=3)
    """Most vertices of an AOI geometry (413 above)."""
    max_features: int = Field(default=100_000, gt=0)
    """Most features returned by one detections or changes request."""

    max_tile_renders: int = Field(default=4, ge=1, le=256)
    """Tiles rendered at once (more wait, then get 429): one request cannot take every core."""

    label_datasets: dict[str, Path] = Field(default_factory=dict)
    """Patch datasets offered by the labeling page at ``/label`` (JSON: name -> folder)."""
    label_models: dict[str, Path] = Field(default_factory=dict)
    """Models suggesting masks on the labeling page (JSON: dataset name -> model folder)."""

    job_workers: int = Field(default=1, ge=1, le=64)
    """Worker processes for detection jobs and runs requested through the API."""
    scheduler: bool = False
    """Run the monitoring schedule inside the server process."""
    scheduler_interval_s: float = Field(default=60.0, gt=0)
    """Seconds between two looks at what is due."""

    basemap_url: str = ""
    """Optional XYZ raster tile URL for a base map; empty = none (works offline)."""

    @property
    def origins(self) -> tuple[str, ...]:
        """CORS origins, empty when CORS is off."""
        return tuple(o.strip() for o in self.cors_origins.split(",") if o.strip())
