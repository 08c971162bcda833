"""The one place where monitoring calls acquisition (search, fetch) and inference (detect).

Detection runs through the ONNX engine so the monitoring process never imports torch.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
    from slidewatch.acquisition.options import SourceConfig

    return SourceConfig.from_dict(options)


def aoi_value(geometry: dict[str, Any]) -> Any:
    """Acquisition's validated AOI (cached: a look asks for it at search and at fetch)."""
    return _aoi_value(json.dumps(geometry, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _aoi_value(geometry_json: str) -> Any:
    from shapely.geometry import shape

    from slidewatch.acquisition.aoi import validate_aoi

    return validate_aoi(shape(json.loads(geometry_json)), "AOI geometry")


def search(source: dict[str, Any], geometry: dict[str, Any], start: date, end: date) -> list[Found]:
    """Acquisitions over the AOI between two dates (inclusive), oldest first."""
    from slidewatch.acquisition.acquisitions import search_acquisitions
    from slidewatch.acquisition.sources import kept_source

    if end < start:
        return []
    config = source_config(source)
    # kept for the process: a static catalogue is walked again only when it changed
    found = search_acquisitions(config, aoi_value(geometry), start, end, kept_source(config))
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


def fetch(source: dict[str, Any], geometry: dict[str, Any], found: Found, out: Path) -> Any:
    """The detection-ready stack of one acquisition at ``out``; returns acquisition's
    ``StackResult`` (``cloud_cover_aoi``, ``clear_fraction``, ...)."""
    from slidewatch.acquisition.stack import fetch_stack

    day = date.fromisoformat(found.date)
    config, aoi = source_config(source), aoi_value(geometry)
    return fetch_stack(config, aoi, day, day, out, acquisitions=[found.handle])


def cloud_pct(result: Any) -> float:
    """Cloud over the AOI (%) of a one-acquisition stack; where the source cannot tell
    clouds from missing data, the share of the AOI without data."""
    cover = result.cloud_cover_aoi[0] if result.cloud_cover_aoi else None
    unseen = 100.0 * (1.0 - float(result.clear_fraction))
    return round(float(cover) if cover is not None else unseen, 2)


def model_hash(model_dir: str) -> str:
    """The model's hash, computed again only when one of its files changed (size, mtime or
    inode): every run checks it, and hashing the weights each time cost ~5 ms a run."""
    from slidewatch.models.modelfile import SPEC_FILE, WEIGHTS_FILE

    stamps = []
    for name in (WEIGHTS_FILE, SPEC_FILE):
        try:
            st = os.stat(Path(model_dir) / name)
        except OSError:
            return _model_hash(model_dir, ())  # model_hash raises with the missing file
        stamps.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return _model_hash(model_dir, tuple(stamps))


@functools.lru_cache(maxsize=64)
def _model_hash(model_dir: str, _stamps: tuple[tuple[int, int, int], ...]) -> str:
    from slidewatch.models.modelfile import model_hash as hash_files

    return hash_files(Path(model_dir))


def detect(stack: Path, model_dir: str, out: Path) -> dict[str, Any]:
    """``slidewatch detect`` with its CLI defaults (windows of the model's patch size, a
    quarter overlap) and the ONNX engine."""
    from slidewatch.inference.detect import detect as run_detect
    from slidewatch.models.modelfile import read_spec

    tile = read_spec(Path(model_dir)).patch_size
    summary: dict[str, Any] = run_detect(
        stack, model_dir, out, tile=tile, overlap=tile // 4, engine=ENGINE, progress=False
    )
    return summary
