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
    from slidewatch.acquisition.sources import SourceConfig

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

    if end < start:
        return []
    config = source_config(source)
    found = search_acquisitions(
        config, aoi_value(geometry), start, end, source=_imagery_source(source, config)
    )
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


def _imagery_source(options: dict[str, Any], config: Any) -> Any:
    """Acquisition's source for ``config``; a static catalogue's is kept for the process
    while its catalogue and collection files are unchanged, so that it is walked once,
    not once per AOI (~8 ms a run for a small catalogue, more for a large one)."""
    from slidewatch.acquisition.sources import make_source
    from slidewatch.acquisition.stac.finders import is_static

    if config.kind != "stac" or not is_static(config.stac_url):
        return make_source(config)
    stamp = catalogue_stamp(config.stac_url.removeprefix("file://"))
    if not stamp:
        return make_source(config)
    return _static_source(json.dumps(options, sort_keys=True), stamp)


@functools.lru_cache(maxsize=16)
def _static_source(options_json: str, _stamp: tuple[tuple[str, int, int], ...]) -> Any:
    from slidewatch.acquisition.sources import make_source

    return make_source(source_config(json.loads(options_json)))


def catalogue_stamp(path: str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of a static catalogue and of every catalogue or collection it
    links as a child: adding an item rewrites its parent's links, so changes the stamp.
    Empty when the root cannot be read (the source then reports why)."""
    out: list[tuple[str, int, int]] = []
    todo, seen = [Path(path).resolve()], set()
    while todo:
        current = todo.pop()
        if current in seen:  # a catalogue linking back to itself
            continue
        seen.add(current)
        try:
            st = current.stat()
            links = json.loads(current.read_text()).get("links", [])
        except (OSError, ValueError):
            return ()
        out.append((str(current), st.st_mtime_ns, st.st_size))
        todo += [
            (current.parent / link["href"]).resolve()
            for link in links
            if link.get("rel") == "child" and "://" not in str(link.get("href", ""))
        ]
    return tuple(out)


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
