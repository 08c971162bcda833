"""The one place where monitoring calls acquisition (search, fetch) and inference (detect),
and the one acquire-and-detect that a monitoring look and the OGC ``detect`` job both run.

A :class:`Target` (an AOI and the source imaging it) is parsed once from what the registry
or a job stores, then searched and fetched as it is. Detection runs through the ONNX engine
so the monitoring process never imports torch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch.errors import ModelError, NoSceneError
from slidewatch.inference.detection import DetectionSummary, DetectOptions

if TYPE_CHECKING:
    from slidewatch.acquisition.acquisitions import Acquisition
    from slidewatch.acquisition.aoi import AOI
    from slidewatch.acquisition.options import SourceConfig
    from slidewatch.acquisition.stack import StackResult

DETECT_OPTIONS = DetectOptions(engine="onnx")
"""Monitoring detects as ``slidewatch detect`` does (windows of the model's patch size, a
quarter overlap), with the ONNX engine."""


@dataclass(frozen=True)
class Target:
    """What is watched and where its imagery comes from, parsed once."""

    aoi: AOI
    """The validated area."""
    source: SourceConfig
    """The imagery source's options."""

    @classmethod
    def parse(cls, source: Mapping[str, Any], geometry: Mapping[str, Any]) -> Target:
        """From the stored forms: source options (as ``fetch`` takes them) and a GeoJSON
        geometry in lon/lat."""
        from slidewatch.acquisition.aoi import AOI
        from slidewatch.acquisition.options import SourceConfig

        # registered AOIs passed the home's area limit when registered (check_area)
        return cls(AOI.from_geojson(geometry, max_km2=math.inf), SourceConfig.from_dict(source))


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
    acquisition: Acquisition | None = None
    """Acquisition's own record, which :func:`fetch` loads."""
    target: Target | None = None
    """What it was found for (the AOI and source :func:`fetch` loads it from)."""


@dataclass(frozen=True)
class RegisteredModel:
    """A model folder and the hash it had when it was chosen: a run refuses another."""

    path: str
    hash: str

    @classmethod
    def at(cls, path: str | Path) -> RegisteredModel:
        """The model folder at ``path`` (absolute) with its current hash; ModelError naming
        the fix when it is not a readable model folder."""
        from slidewatch.models.identity import current_model_hash
        from slidewatch.models.modelfile import read_spec

        read_spec(Path(path))
        return cls(str(Path(path).resolve()), current_model_hash(path))

    def check(self, owner: str) -> None:
        """ModelError when the folder's files are no longer those ``owner`` chose."""
        from slidewatch.models.identity import current_model_hash

        if current_model_hash(self.path) != self.hash:
            raise ModelError(
                f"{self.path}: the model changed since {owner} was registered; register "
                "it again (monitor remove + add, or a new job) to use the new model"
            )


@dataclass(frozen=True)
class Acquire:
    """What one acquire-and-detect needs besides the acquisition."""

    model: RegisteredModel
    max_cloud_pct: float
    """An acquisition hiding more of the AOI is not detected on."""
    owner: str
    """Who chose the model, for messages: ``AOI 'name'``, ``the job``."""


def search(target: Target, start: date, end: date) -> list[Found]:
    """Acquisitions over the AOI between two dates (inclusive), oldest first."""
    from slidewatch.acquisition.acquisitions import search_acquisitions
    from slidewatch.acquisition.sources import kept_source

    if end < start:
        return []
    # kept for the process: a static catalogue is walked again only when it changed
    source = target.source
    found = search_acquisitions(source, target.aoi, start, end, kept_source(source))
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
            acquisition=a,
            target=target,
        )
        for a in found
    ]


def fetch(found: Found, out: Path) -> StackResult:
    """The detection-ready stack of one acquisition (found by :func:`search`) at ``out``;
    returns acquisition's ``StackResult`` (``cloud_cover_aoi``, ``clear_fraction``, ...)."""
    from slidewatch.acquisition.stack import fetch_stack

    if found.target is None or found.acquisition is None:
        raise ValueError(f"acquisition {found.key} was not found by a search; search first")
    day = date.fromisoformat(found.date)
    target = found.target
    return fetch_stack(
        target.source, target.aoi, day, day, out, acquisitions=[found.acquisition], picture=False
    )


def cloud_pct(result: StackResult) -> float:
    """Cloud over the AOI (%) of a one-acquisition stack; where the source cannot tell
    clouds from missing data, the share of the AOI without data."""
    cover = result.cloud_cover_aoi[0] if result.cloud_cover_aoi else None
    unseen = 100.0 * (1.0 - float(result.clear_fraction))
    return round(float(cover) if cover is not None else unseen, 2)


def detect(stack: Path, model_dir: str, out: Path) -> DetectionSummary:
    """``slidewatch detect`` with the model's options and the ONNX engine."""
    from slidewatch.inference.detect import detect as run_detect

    return run_detect(stack, model_dir, out, DETECT_OPTIONS, progress=False)


@dataclass(frozen=True)
class Detected:
    """One acquisition fetched and detected, or fetched and found too cloudy."""

    found: Found
    cloud_pct: float
    """Cloud (or unseen ground) over the AOI, %."""
    summary: DetectionSummary | None
    """The detection in ``work/detect``; None when skipped."""
    skipped: str | None
    """Why the acquisition was not detected on (too cloudy); None when it was."""
    fetch_s: float
    detect_s: float = 0.0


def _no_stage(stage: str) -> None:
    """The default stage report: nothing."""


def acquire_and_detect(
    request: Acquire, found: Found, work: Path, stage: Callable[[str], None] = _no_stage
) -> Detected:
    """Fetch ``found`` into ``work/stack.tif`` and, unless too much of the AOI is under
    cloud, detect into ``work/detect``. ``stage(name)`` is called as ``fetch`` and
    ``detect`` begin. The model must still be the one the owner chose."""
    request.model.check(request.owner)
    stage("fetch")
    stack = work / "stack.tif"
    t = time.perf_counter()
    cloud = cloud_pct(fetch(found, stack))
    fetch_s = time.perf_counter() - t
    limit = request.max_cloud_pct
    if cloud > limit:
        reason = f"too cloudy: {cloud:.1f}% of the AOI under cloud (limit {limit:g}%)"
        return Detected(found, cloud, None, reason, fetch_s)
    stage("detect")
    t = time.perf_counter()
    summary = detect(stack, request.model.path, work / "detect")
    return Detected(found, cloud, summary, None, fetch_s, time.perf_counter() - t)


def first_acquisition(target: Target, start: date, end: date, latest: bool = False) -> Found:
    """The first (or, with ``latest``, the last) acquisition between two dates;
    NoSceneError when there is none."""
    found = search(target, start, end)
    if not found:
        raise NoSceneError(
            f"no acquisition over the AOI between {start} and {end}; widen the dates"
        )
    return found[-1] if latest else found[0]
