"""Scenes grouped into acquisitions: one satellite pass over the AOI on one UTC day.

A pass over an AOI spanning several MGRS tiles gives one scene per tile; those are one
acquisition, mosaicked. Where swaths of neighbouring orbits overlap (more so towards the
poles), one place can be seen twice on one UTC day, about 100 minutes apart: when the items
say their platform and relative orbit (STAC ``platform`` + ``sat:relative_orbit``, Earth
Engine ``SPACECRAFT_NAME`` + ``SENSING_ORBIT_NUMBER``), those are two acquisitions, not one
mosaic of two times; a catalogue that does not say gets one acquisition per UTC day.

A scene that was re-processed (same tile and sensing time, a newer
processing baseline or processing time) appears twice in many catalogues: only the newest
copy is kept, so no pixel is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from slidewatch.acquisition.options import SourceConfig
from slidewatch.acquisition.sources import ImagerySource, SceneInfo, make_source
from slidewatch.errors import ConfigError

if TYPE_CHECKING:
    from slidewatch.acquisition.aoi import AOI


@dataclass(frozen=True)
class Acquisition:
    """The scenes of one pass over an AOI."""

    date: date
    """UTC date of the pass."""
    datetime: datetime
    """Sensing time of the first scene (UTC)."""
    scene_ids: tuple[str, ...]
    """Ids of the scenes used, sorted."""
    processing_baselines: tuple[str, ...]
    """Processing baseline of each scene, in :attr:`scene_ids` order."""
    cloud_cover: float | None
    """Mean scene cloud cover (%) as the catalogue states it; None when it does not."""
    scenes: tuple[SceneInfo, ...] = field(compare=False, repr=False)
    """The scenes themselves (what a source loads)."""

    @property
    def key(self) -> str:
        """A stable identifier: the date and the sorted scene ids (``2023-02-01:id1+id2``)."""
        return f"{self.date.isoformat()}:{'+'.join(self.scene_ids)}"


def _sensing_key(scene: SceneInfo) -> tuple[str, str]:
    # Re-processed copies share the tile and the sensing time to the second.
    return scene.tile or scene.id, scene.datetime.strftime("%Y%m%dT%H%M%S")


def _newness(scene: SceneInfo) -> tuple[str, str, str]:
    return scene.processing_baseline, scene.processed, scene.id


def newest_copies(scenes: Sequence[SceneInfo]) -> list[SceneInfo]:
    """``scenes`` without re-processed duplicates: per tile and sensing time, the newest."""
    best: dict[tuple[str, str], SceneInfo] = {}
    for scene in scenes:
        key = _sensing_key(scene)
        if key not in best or _newness(scene) > _newness(best[key]):
            best[key] = scene
    return sorted(best.values(), key=lambda s: (s.datetime, s.id))


def group_acquisitions(scenes: Sequence[SceneInfo]) -> list[Acquisition]:
    """Acquisitions (oldest first) of ``scenes``, duplicates removed (:func:`newest_copies`):
    one per UTC day and pass (platform and relative orbit, when the catalogue gives them)."""
    by_pass: dict[tuple[date, str], list[SceneInfo]] = {}
    for scene in newest_copies(scenes):
        day = scene.datetime.astimezone(UTC).date()
        by_pass.setdefault((day, scene.pass_id), []).append(scene)
    out = []
    for (day, _), members in sorted(by_pass.items(), key=lambda kv: min(s.datetime for s in kv[1])):
        members.sort(key=lambda s: s.id)
        covers = [s.cloud_cover for s in members if s.cloud_cover is not None]
        out.append(
            Acquisition(
                date=day,
                datetime=min(s.datetime for s in members),
                scene_ids=tuple(s.id for s in members),
                processing_baselines=tuple(s.processing_baseline for s in members),
                cloud_cover=sum(covers) / len(covers) if covers else None,
                scenes=tuple(members),
            )
        )
    return out


def as_utc_range(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """``(start 00:00, end 23:59:59.999999)`` UTC for dates; datetimes made UTC-aware.

    Raises :class:`~slidewatch.errors.ConfigError` when ``end`` is before ``start``."""

    def to_dt(value: date | datetime, at: time) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.combine(value, at, tzinfo=UTC)

    lo, hi = to_dt(start, time.min), to_dt(end, time.max)
    if hi < lo:
        raise ConfigError(
            f"the end date {hi.date()} is before the start date {lo.date()}; swap --start and --end"
        )
    return lo, hi


def search_acquisitions(
    config: SourceConfig,
    aoi: AOI,
    start: date | datetime,
    end: date | datetime,
    source: ImagerySource | None = None,
) -> list[Acquisition]:
    """The acquisitions over ``aoi`` between ``start`` and ``end`` (inclusive, UTC) whose
    scenes are at most ``config.max_cloud`` % cloudy, oldest first; ``[]`` when none.
    ``source``: one already made for ``config`` (a caller that keeps it between searches)."""
    lo, hi = as_utc_range(start, end)
    source = source or make_source(config)
    return group_acquisitions(source.search(aoi, lo, hi, config.max_cloud))
