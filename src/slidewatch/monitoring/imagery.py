"""The one place where monitoring calls acquisition (search, fetch) and inference (detect).

Detection runs through the ONNX engine so the monitoring process never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.errors import ConfigError

ENGINE = "onnx"


@dataclass(frozen=True)
class Found:
    """An acquisition as monitoring records it."""

    key: str
    """Stable key: the date and the sorted scene ids."""
    date: str
    """UTC date (ISO)."""
    when: datetime
    scenes: list[dict[str, Any]]
    """``[{"id", "datetime", "cloud_cover", "processing_baseline"}]``."""
    handle: Any
    """What :func:`fetch` needs back (acquisition's own object)."""


def source_config(options: dict[str, Any]) -> Any:
    from slidewatch.acquisition.sources import SourceConfig

    return SourceConfig.from_dict(options)


def aoi_value(geometry: dict[str, Any]) -> Any:
    from slidewatch.acquisition.aoi import validate_aoi

    return validate_aoi(geometry, "AOI geometry")


def search(source: dict[str, Any], geometry: dict[str, Any], start: date, end: date) -> list[Found]:
    """Acquisitions over the AOI between two dates (inclusive), oldest first."""
    from slidewatch.acquisition.acquisitions import search_acquisitions

    if end < start:
        return []
    found = search_acquisitions(source_config(source), aoi_value(geometry), start, end)
    return [
        Found(
            key=a.key,
            date=a.date.isoformat(),
            when=a.datetime,
            scenes=[
                {
                    "id": s.id,
                    "datetime": s.datetime.isoformat(),
                    "cloud_cover": s.cloud_cover,
                    "processing_baseline": s.processing_baseline,
                }
                for s in a.scenes
            ],
            handle=a,
        )
        for a in found
    ]


def fetch(source: dict[str, Any], geometry: dict[str, Any], found: Found, out: Path) -> Path:
    """The detection-ready stack of one acquisition (its day only) at ``out``."""
    from slidewatch.acquisition.stack import fetch_stack

    day = date.fromisoformat(found.date)
    fetch_stack(source_config(source), aoi_value(geometry), day, day, out)
    return out


def detect(stack: Path, model_dir: str, out: Path) -> dict[str, Any]:
    from slidewatch.inference.detect import detect as run_detect

    summary: dict[str, Any] = run_detect(stack, model_dir, out, engine=ENGINE, progress=False)
    return summary


def unseen_pct(stack: Path, geometry: dict[str, Any]) -> float:
    """Share (%) of the AOI's pixels the stack cannot see (clouds, shadows, no data)."""
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.warp import transform_geom

    with rasterio.open(stack) as ds:
        valid = ds.dataset_mask() > 0
        inside = ~geometry_mask(
            [transform_geom("EPSG:4326", ds.crs, geometry)], valid.shape, ds.transform
        )
    total = int(inside.sum())
    if total == 0:
        raise ConfigError("the AOI covers no pixel of its stack; check the AOI geometry")
    return round(100.0 * float(np.count_nonzero(inside & ~valid)) / total, 2)
