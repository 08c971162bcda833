"""A run's results recorded in one transaction: landslide identities (matched, new, merged,
split), detections, changes, alerts with their deliveries (the outbox), and the run ``done``.
Nothing is recorded before, so a run killed at any point is simply run again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from slidewatch.models.store import model_version
from slidewatch.monitoring.alerts.payload import LandslideEvent, RunFacts, alert_payload
from slidewatch.monitoring.kinds import ALERTED_KINDS, ChangeKind, RunState
from slidewatch.monitoring.look.change import ChangeRecord
from slidewatch.monitoring.look.context import RunContext
from slidewatch.monitoring.look.results import Results, change_counts, change_feature
from slidewatch.monitoring.registry.tables import (
    Alert,
    Change,
    Delivery,
    Detection,
    Landslide,
    Run,
    utcnow,
)


def _identity(s: Any, ctx: RunContext, r: ChangeRecord, res: Results) -> int:
    """The landslide id of a record with a current polygon: matched or new (a split part
    is new, with its lineage)."""
    detected = res.current[r.current]  # type: ignore[index]
    day = ctx.found.date
    if r.known is not None:
        slide = s.get_one(Landslide, res.known[r.known].id)
        slide.last_run_id, slide.last_seen = ctx.run_id, day
        slide.area_m2, slide.geometry = detected.area_m2, detected.geometry
        return int(slide.id)
    parent = None if r.split_from is None else res.known[r.split_from].id
    slide = Landslide(aoi_id=ctx.aoi.id, first_run_id=ctx.run_id, last_run_id=ctx.run_id,
                      first_seen=day, last_seen=day, area_m2=detected.area_m2,
                      geometry=detected.geometry, split_from_id=parent)  # fmt: skip
    s.add(slide)
    s.flush()
    return int(slide.id)


def _merge(s: Any, ctx: RunContext, r: ChangeRecord, res: Results) -> int:
    """A known landslide merged into another: seen (as part of it), no longer matched."""
    slide = s.get_one(Landslide, res.known[r.known].id)  # type: ignore[index]
    slide.last_run_id, slide.last_seen = ctx.run_id, ctx.found.date
    slide.merged_into_id = res.known[r.merged_into].id  # type: ignore[index]
    return int(slide.id)


def _record_one(s: Any, ctx: RunContext, r: ChangeRecord, res: Results, facts: RunFacts) -> int:
    """Rows for one change record; return 1 when it raised an alert."""
    if r.kind == ChangeKind.MERGED:
        slide_id = _merge(s, ctx, r, res)
    elif r.current is None:
        slide_id = res.known[r.known].id  # type: ignore[index]
    else:
        slide_id = _identity(s, ctx, r, res)
        detected = res.current[r.current]
        s.add(Detection(run_id=ctx.run_id, landslide_id=slide_id, geometry=detected.geometry,
                        area_m2=detected.area_m2,
                        mean_probability=detected.mean_probability))  # fmt: skip
    if r.kind == ChangeKind.BASELINE:
        return 0
    feature = change_feature(r, res.current, res.known)
    props = feature["properties"]
    s.add(Change(
        run_id=ctx.run_id, landslide_id=slide_id, kind=r.kind, area_m2=props["area_m2"],
        changed_area_m2=r.changed_area_m2, geometry=feature["geometry"],
        merged_from=props["merged_from"] or None, merged_into_id=props["merged_into"],
        split_from_id=props["split_from"],
    ))  # fmt: skip
    if r.kind not in ALERTED_KINDS or r.changed_area_m2 < ctx.aoi.min_new_area_m2:
        return 0
    if s.scalar(select(Alert.id).where(Alert.landslide_id == slide_id)) is not None:
        return 0  # one alert per landslide, ever
    event = LandslideEvent(slide_id, r.kind, r.changed_area_m2,
                           res.current[r.current],  # type: ignore[index]  # new and grown have one
                           tuple(props["merged_from"]), props["split_from"])  # fmt: skip
    s.add(_alert(ctx, slide_id, alert_payload(facts, event)))
    return 1


def _alert(ctx: RunContext, slide_id: int, payload: dict[str, Any]) -> Alert:
    """The alert with one delivery per channel target (the outbox)."""
    alert = Alert(aoi_id=ctx.aoi.id, run_id=ctx.run_id, landslide_id=slide_id, payload=payload)
    for channel, targets in (("webhook", ctx.aoi.webhooks), ("email", ctx.aoi.emails)):
        alert.deliveries += [Delivery(channel=channel, target=t) for t in targets]
    return alert


def record_results(
    ctx: RunContext, res: Results, urls: dict[str, str], timings: dict[str, float]
) -> int:
    """Landslides, detections, changes, alerts with their deliveries, and the run marked
    done, in one transaction; return the number of alerts queued."""
    facts = RunFacts(ctx.aoi, ctx.run_id, ctx.found, res.cloud_pct, res.previous, urls)
    with ctx.registry.session() as s:
        alerts = sum(_record_one(s, ctx, r, res, facts) for r in res.records)
        run = s.get_one(Run, ctx.run_id)
        run.state, run.reason, run.owner, run.finished_at = RunState.DONE, None, None, utcnow()
        run.products, run.cloud_pct, run.timings = urls, res.cloud_pct, timings
        grown = [r.changed_area_m2 for r in res.records if r.kind in ALERTED_KINDS]
        run.stats = {
            "landslides": len(res.current),
            "landslide_area_m2": round(sum(c.area_m2 for c in res.current), 2),
            "changes": change_counts(res.records),
            "new_area_m2": round(sum(grown), 2),
            "alerts": alerts,
            "baseline": res.previous is None,
            "previous_run": None if res.previous is None else res.previous.summary(),
            "model": model_version(ctx.aoi.model_path, ctx.aoi.model_hash),
        }
    return alerts
