"""The look's reads of the registry, answered as typed records (:mod:`.records`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.registry.records import KnownLandslide, PreviousRun, WatchedAoi
from slidewatch.monitoring.registry.tables import Landslide, Run


def watched_aoi(registry: Any, name: str) -> WatchedAoi:
    """AOI ``name`` as a frozen record; ``RegistryError`` (listing the names) if unknown."""
    row = registry.get_aoi(name)
    return WatchedAoi.from_row(row)


def last_processed_date(registry: Any, aoi_id: int) -> str | None:
    """The newest acquisition date (ISO) the AOI has a done or skipped run of."""
    with registry.session() as s:
        return s.scalar(
            select(Run.acquisition_date)
            .where(Run.aoi_id == aoi_id, Run.state.in_((RunState.DONE, RunState.SKIPPED)),
                   Run.acquisition_date.is_not(None))
            .order_by(Run.acquisition_date.desc())
            .limit(1)
        )  # fmt: skip


def baseline(
    registry: Any, aoi_id: int, day: str
) -> tuple[PreviousRun | None, list[KnownLandslide]]:
    """The previous done run before ``day`` and, when there is one, the AOI's known
    landslides (those not merged into another), read in one transaction."""
    with registry.session() as s:
        row = s.execute(
            select(Run.id, Run.acquisition_date, Run.products)
            .where(Run.aoi_id == aoi_id, Run.state == RunState.DONE, Run.acquisition_date < day)
            .order_by(Run.acquisition_date.desc())
            .limit(1)
        ).first()
        if row is None:
            return None, []
        previous = PreviousRun(row[0], row[1], row[2]["landslides.tif"], row[2].get("ndvi.tif"))
        return previous, _known_in(s, aoi_id)


def known_landslides(registry: Any, aoi_id: int) -> list[KnownLandslide]:
    """The AOI's landslides that later runs match (those not merged into another)."""
    with registry.session() as s:
        return _known_in(s, aoi_id)


def _known_in(s: Any, aoi_id: int) -> list[KnownLandslide]:
    rows = s.execute(
        select(Landslide.id, Landslide.area_m2, Landslide.geometry, Landslide.last_run_id)
        .where(Landslide.aoi_id == aoi_id, Landslide.merged_into_id.is_(None))
        .order_by(Landslide.id)
    ).all()
    return [KnownLandslide(*row) for row in rows]


def run_of_acquisition(registry: Any, aoi_id: int, key: str) -> int | None:
    """The id of the AOI's run of acquisition ``key``, if it has one."""
    with registry.session() as s:
        return s.scalar(select(Run.id).where(Run.aoi_id == aoi_id, Run.acquisition_key == key))
