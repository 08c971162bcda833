"""One run of a look, claimed by this process: fetch → detect → change → archive → record.

Products are computed in a work folder that the run clears first, so a run killed at any
point and run again gives the same products; nothing is recorded before the final
transaction (:mod:`.record`).
"""

from __future__ import annotations

import json
import shutil
import time
import traceback

from slidewatch.monitoring import imagery
from slidewatch.monitoring.archive import Archive
from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.look.context import Outcome, RunContext
from slidewatch.monitoring.look.record import record_results
from slidewatch.monitoring.look.results import compute_results
from slidewatch.monitoring.registry import runs

DETECT_FILES = ("probability.tif", "landslides.tif", "landslides.geojson", "quicklook.png",
                "summary.json")  # fmt: skip


def run_claimed(ctx: RunContext) -> Outcome:
    """Work on run ``ctx.run_id``, which this process has claimed for ``ctx.found``: fetch,
    detect, change, archive, record; a failure fails the run with the reason. Also what a
    queued run (:mod:`.queue`) calls."""
    work = ctx.work
    shutil.rmtree(work, ignore_errors=True)  # what a killed run left
    work.mkdir(parents=True)
    try:
        with runs.heartbeat(ctx.registry, ctx.run_id, ctx.aoi.id):
            return _produce(ctx)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        detail = "".join(traceback.format_exception_only(exc)).strip()
        runs.end(ctx.registry, ctx.run_id, RunState.FAILED, reason, stats={"error": detail})
        return Outcome(ctx.aoi.name, RunState.FAILED, ctx.run_id, ctx.found.date, reason)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _produce(ctx: RunContext) -> Outcome:
    """Fetch, detect, change, archive, record; ``timings`` split the run's time so that
    ``overhead_s`` is everything outside fetch and detect (the search's share included)."""
    aoi, found, work = ctx.aoi, ctx.found, ctx.work
    detected = imagery.acquire_and_detect(ctx.acquire, found, work, lambda what: stage(ctx, what))
    cloud = detected.cloud_pct
    timings = {"fetch_s": detected.fetch_s}
    if detected.skipped is not None:
        runs.end(ctx.registry, ctx.run_id, RunState.SKIPPED, detected.skipped, cloud_pct=cloud,
                 timings=timings)  # fmt: skip
        return Outcome(aoi.name, RunState.SKIPPED, ctx.run_id, found.date, detected.skipped)
    timings["detect_s"] = detected.detect_s
    stage(ctx, "change")
    t = time.perf_counter()
    archive = Archive(ctx.config.storage)
    results = compute_results(ctx, archive, cloud)
    files = {n: work / "detect" / n for n in DETECT_FILES} | results.files
    timings["change_s"], t = time.perf_counter() - t, time.perf_counter()
    timings["attributes_s"] = results.attributes_s  # part of change_s
    stage(ctx, "store")
    products = archive.store_run(aoi.name, found.date, files, results.stac_item, move=True)
    timings["store_s"], t = time.perf_counter() - t, time.perf_counter()
    alerts = record_results(ctx, results, products, timings)
    timings["record_s"], timings["search_s"] = time.perf_counter() - t, ctx.search_s
    timings["total_s"] = time.perf_counter() - ctx.started
    timings["overhead_s"] = timings["total_s"] - timings["fetch_s"] - timings["detect_s"]
    runs.set_timings(ctx.registry, ctx.run_id, timings)  # the recording included
    return Outcome(aoi.name, RunState.DONE, ctx.run_id, found.date, None, alerts,
                   len(results.current))  # fmt: skip


def stage(ctx: RunContext, what: str) -> None:
    """One progress line per stage (what an operator's log shows; tests wait for them)."""
    print(json.dumps({"aoi": ctx.aoi.name, "date": ctx.found.date, "stage": what}), flush=True)
