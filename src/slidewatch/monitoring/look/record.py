"""A run's results recorded in one transaction: landslide identities (matched, new, merged,
split) with their evidence (``monitoring.confidence``), detections, changes, alert events
(new, confirmed, grown) with their deliveries (the outbox), and the run ``done``.
Nothing is recorded before, so a run killed at any point is simply run again."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from slidewatch.monitoring.alerts.payload import (
    LandslideEvent,
    Links,
    ModelFacts,
    RunFacts,
    alert_payload,
)
from slidewatch.monitoring.confidence import (
    Attributes,
    Observation,
    Standing,
    event_for,
    first_standing,
    merged,
    observe,
    sent,
    split_part,
)
from slidewatch.monitoring.kinds import ALERTED_KINDS, AlertKind, ChangeKind, RunState
from slidewatch.monitoring.look.change import ChangeRecord
from slidewatch.monitoring.look.context import RunContext
from slidewatch.monitoring.look.results import Results, change_counts, change_feature
from slidewatch.monitoring.registry.records import standing_of, store_standing
from slidewatch.monitoring.registry.tables import (
    Alert,
    Change,
    Delivery,
    Detection,
    Landslide,
    Run,
    utcnow,
)


def _identity(s: Any, ctx: RunContext, r: ChangeRecord, res: Results) -> Landslide:
    """The landslide row of a record with a current polygon: matched or new (a split part
    is new, with its lineage)."""
    detected = res.current[r.current]  # type: ignore[index]
    day = ctx.found.date
    if r.known is not None:
        slide = s.get_one(Landslide, res.known[r.known].id)
        slide.last_run_id, slide.last_seen = ctx.run_id, day
        slide.area_m2, slide.geometry = detected.area_m2, detected.geometry
        return slide
    parent = None if r.split_from is None else res.known[r.split_from].id
    slide = Landslide(aoi_id=ctx.aoi.id, first_run_id=ctx.run_id, last_run_id=ctx.run_id,
                      first_seen=day, last_seen=day, area_m2=detected.area_m2,
                      geometry=detected.geometry, split_from_id=parent)  # fmt: skip
    s.add(slide)
    s.flush()
    return slide


def _merge(s: Any, ctx: RunContext, r: ChangeRecord, res: Results) -> int:
    """A known landslide merged into another: seen (as part of it), no longer matched."""
    slide = s.get_one(Landslide, res.known[r.known].id)  # type: ignore[index]
    slide.last_run_id, slide.last_seen = ctx.run_id, ctx.found.date
    slide.merged_into_id = res.known[r.merged_into].id  # type: ignore[index]
    return int(slide.id)


def _evidence(
    s: Any, r: ChangeRecord, res: Results, slide: Landslide
) -> tuple[Standing | None, Standing, Observation]:
    """The landslide's standing before and after this look (:mod:`..confidence`)."""
    detected = res.current[r.current]  # type: ignore[index]
    obs = Observation(r.kind, detected.mean_probability, detected.area_m2, r.changed_area_m2)
    if r.known is not None:
        before: Standing | None = standing_of(slide)
        absorbed = [standing_of(s.get_one(Landslide, res.known[k].id)) for k in r.merged_from]
        after = observe(merged(before, absorbed), obs)  # type: ignore[arg-type]
    elif r.split_from is not None:
        before = split_part(standing_of(s.get_one(Landslide, res.known[r.split_from].id)))
        after = observe(before, obs)
    else:
        before, after = None, first_standing(obs)
    store_standing(slide, after)
    attributes = res.attributes_of(r.current)  # type: ignore[arg-type]
    slide.mean_slope_deg, slide.elevation_m = attributes.mean_slope_deg, attributes.elevation_m
    slide.vegetation_change = attributes.vegetation_change
    return before, after, obs


def _record_one(s: Any, ctx: RunContext, r: ChangeRecord, res: Results, facts: RunFacts,
                spent: list[float]) -> int:  # fmt: skip
    """Rows for one change record; return 1 when it raised an alert. ``spent[0]`` adds up
    the time of the evidence and the events (confidence, alert, payload)."""
    event = None
    if r.kind == ChangeKind.MERGED:
        slide_id = _merge(s, ctx, r, res)
    elif r.current is None:
        slide_id = res.known[r.known].id  # type: ignore[index]
    else:
        slide = _identity(s, ctx, r, res)
        slide_id = int(slide.id)
        detected = res.current[r.current]
        s.add(Detection(run_id=ctx.run_id, landslide_id=slide_id, geometry=detected.geometry,
                        area_m2=detected.area_m2,
                        mean_probability=detected.mean_probability))  # fmt: skip
        started = time.perf_counter()
        before, after, obs = _evidence(s, r, res, slide)
        # a split part is news only by its growth: it continues its parent (announced or not)
        announced = r.split_from is not None or (
            s.scalar(select(Alert.id).where(Alert.landslide_id == slide_id).limit(1)) is not None
        )
        event = event_for(before, after, obs, ctx.aoi.min_new_area_m2, announced)
        if r.split_from is not None and event == AlertKind.CONFIRMED:
            event = None  # its parent's look confirms the landslide, once
        if event is not None and not _sent(ctx, after, res.attributes_of(r.current)):
            event = None
        spent[0] += time.perf_counter() - started
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
    if event is None:
        return 0
    exists = select(Alert.id).where(Alert.landslide_id == slide_id, Alert.run_id == ctx.run_id)
    if s.scalar(exists) is not None:
        return 0  # one event per landslide and run
    landslide = s.get_one(Landslide, slide_id)
    alert_event = LandslideEvent(
        slide_id, r.kind, r.changed_area_m2, res.current[r.current],  # type: ignore[index]
        tuple(props["merged_from"]), props["split_from"], event,
        standing_of(landslide), res.attributes_of(r.current),  # type: ignore[arg-type]
        landslide.first_seen, landslide.last_seen,
    )  # fmt: skip
    started = time.perf_counter()
    s.add(_alert(ctx, slide_id, alert_event, alert_payload(facts, alert_event)))
    spent[0] += time.perf_counter() - started
    return 1


def _sent(ctx: RunContext, after: Standing, attributes: Attributes) -> bool:
    """Whether the AOI sends an event of this confidence and these attributes."""
    return sent(ctx.aoi.alert_on, after.confidence) and ctx.aoi.alert_filters.passes(attributes)


def _alert(ctx: RunContext, slide_id: int, event: LandslideEvent, payload: dict[str, Any]) -> Alert:
    """The alert with one delivery per channel target (the outbox)."""
    alert = Alert(aoi_id=ctx.aoi.id, run_id=ctx.run_id, landslide_id=slide_id, payload=payload,
                  kind=event.alert, confidence=event.standing.confidence,
                  event_id=payload["id"])  # fmt: skip
    for channel, targets in (("webhook", ctx.aoi.webhooks), ("email", ctx.aoi.emails)):
        alert.deliveries += [Delivery(channel=channel, target=t) for t in targets]
    return alert


def record_results(
    ctx: RunContext, res: Results, urls: dict[str, str], timings: dict[str, float]
) -> int:
    """Landslides, detections, changes, alerts with their deliveries, and the run marked
    done, in one transaction; return the number of alerts queued."""
    facts = RunFacts(ctx.aoi, ctx.run_id, ctx.found, res.cloud_pct, res.previous, tuple(urls),
                     Links(ctx.config.public_url),
                     ModelFacts.of(ctx.aoi.model_path, ctx.aoi.model_hash))  # fmt: skip
    with ctx.registry.session() as s:
        spent = [0.0]
        alerts = sum(_record_one(s, ctx, r, res, facts, spent) for r in res.records)
        run = s.get_one(Run, ctx.run_id)
        run.state, run.reason, run.owner, run.finished_at = RunState.DONE, None, None, utcnow()
        timings["events_s"] = spent[0]  # part of record_s
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
        }
    return alerts
