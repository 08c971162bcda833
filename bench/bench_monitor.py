"""Monitoring throughput: many small AOIs, one acquisition each, from a local catalogue.

Builds a static STAC catalogue of one synthetic acquisition (``--scene-px`` square, 10 m),
an untrained U-Net (``--base-width``) with its ONNX graph, and ``--aois`` AOIs of
``--aoi-px`` square tiled over the scene; then, each on its own fresh registry (SQLite):

1. ``run_once`` in this process (looks one after the other): runs per minute;
2. ``run_once(workers=2)`` on a 2-worker LocalCluster (cluster start included): runs per
   minute and the ratio to (1);
3. the registry's overhead per run: the time of a look outside fetch + detect (search,
   change, archive, recording) over the run's time (goal < 5 %), and the time ``run_once``
   spends outside the looks (schedule, deliveries) per run.

4. one large AOI (``--large-px`` square, default the whole scene less a margin): fetch,
   detect and overhead per km² at a size where fixed costs no longer dominate (what
   docs/scale.md extrapolates from).

5. (1) and (3) again with the paper's U-Net (width 64, ``--no-paper-model`` skips it):
   the overhead is a share of the run, and the run is mostly detection, so the same
   overhead is a smaller share of a run with the model the paper trains than of one with
   the demo's width-16 model (the default ``--base-width``), the cheapest detection here.

6. the steps issue 18 added, on AOIs looked at twice (a second date with new scars, each AOI
   with a webhook on 127.0.0.1): the attributes (slope, NDVI and its archived product,
   elevation: ``attributes_s``, part of ``change_s``), the evidence and events (confidence,
   alert, CloudEvents payload: ``events_s``, part of ``record_s``) and the delivery (outside
   the looks), as shares of the second date's runs, with the monitoring tests' small
   trained model so that the new scars are found and alerted (``--new-steps-only`` runs
   just this).

The model is built in a child process, so that this one, like ``monitor run-once``,
never imports torch; each measurement reports its garbage collection time per run.

Run: ``.venv/bin/python bench/bench_monitor.py [--aois 50] [--aoi-px 200] [--scene-px 1614]
[--out bench/results/bench_monitor.json]``; the overhead's breakdown is printed on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from slidewatch.monitoring.look import MonitorConfig
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.aois import AoiSettings

BANDS = ("B2", "B3", "B4", "B8")
PAPER_WIDTH = 64
"""The U-Net of the paper slidewatch implements (the demo trains width 16 to be quick)."""


def make_catalog(root: Path, scene_px: int) -> Path:
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog
    from slidewatch.synthetic.example import FIRST

    bands, dem, _ = area_bands(scene_px, scene_px, seed=5)
    return write_catalog(root, [SyntheticScene("S2A_BENCH_20230301", FIRST, bands)], dem)


def make_two_dates(root: Path, scene_px: int) -> Path:
    """The bench's scene on 2023-03-01, and on 2023-03-06 with 9×7 px scars added."""
    import numpy as np

    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog
    from slidewatch.synthetic.example import FIRST, SECOND

    bands, dem, scars = area_bands(scene_px, scene_px, seed=5)
    rng = np.random.default_rng(5)
    later = scars.copy()
    for r, c in rng.integers(12, scene_px - 24, size=(scene_px // 20, 2)):
        later[r : r + 9, c : c + 7] = True
    bands2, _, _ = area_bands(scene_px, scene_px, seed=5, scars=later)
    scenes = [SyntheticScene("S2A_BENCH_20230301", FIRST, bands),
              SyntheticScene("S2B_BENCH_20230306", SECOND, bands2)]  # fmt: skip
    return write_catalog(root, scenes, dem)


def measure_new_steps(root: Path, boxes: list[dict[str, Any]], model: Path,
                      catalog: Path) -> dict[str, Any]:  # fmt: skip
    """Step 6: the issue-18 steps' share of the second date's runs."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from slidewatch.monitoring.look.cycle import run_once
    from slidewatch.synthetic.example import FIRST, SECOND

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = root / "home-new-steps"
    home.mkdir()
    from slidewatch.monitoring.alerts.targets import TargetRules, parse_networks

    local = TargetRules(parse_networks("127.0.0.0/8"))  # the receiver on 127.0.0.1
    config = MonitorConfig(f"sqlite:///{home / 'registry.db'}", str(home / "archive"),
                           str(home / "work"), public_url="https://sw.example.org",
                           targets=local)  # fmt: skip
    # every new landslide alerted (the untrained model's are small): events and deliveries
    hook = f"http://127.0.0.1:{server.server_port}/hook"
    register(config.db_url, boxes, model, catalog, webhook=hook, min_new_area_m2=0.0)
    with contextlib.redirect_stdout(sys.stderr):
        run_once(config, now=FIRST.replace(day=3))
        t0 = time.perf_counter()
        outcomes, deliveries = run_once(config, now=SECOND.replace(day=9))
        wall = time.perf_counter() - t0
    server.shutdown()
    with Registry(config.db_url) as registry:
        timings = [r.timings for a in registry.list_aois() for r in registry.runs(a.name)
                   if r.acquisition_date == "2023-03-06"]  # fmt: skip
    looks = sum(t["total_s"] for t in timings)
    attributes = [t.get("attributes_s", 0.0) for t in timings]
    events = [t.get("events_s", 0.0) for t in timings]
    return {
        "runs": len(timings), "alerts": sum(o.alerts for o in outcomes),
        "deliveries": dict(deliveries),
        "run_s_median": statistics.median(t["total_s"] for t in timings),
        "attributes_s_median": statistics.median(attributes),
        "events_s_median": statistics.median(events),
        "attributes_share_of_run": sum(attributes) / looks,
        "events_share_of_run": sum(events) / looks,
        "delivery_and_schedule_s_per_run": max(0.0, wall - looks) / len(timings),
        "delivery_and_schedule_share": max(0.0, wall - looks) / wall,
    }  # fmt: skip


def make_trained_model(root: Path) -> Path:
    """The monitoring tests' small trained U-Net (it finds the new scars, so step 6 raises
    and delivers alerts), trained in a child process for the same reason as below."""
    repo = Path(__file__).resolve().parents[1]
    code = (f"import sys; sys.path.insert(0, {str(repo)!r}); from pathlib import Path; "
            "from tests.monitoring.model import train_small_model; "
            f"print(train_small_model(Path({str(root)!r})))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)  # fmt: skip
    return Path(out.stdout.strip().splitlines()[-1])


def make_model(root: Path, base_width: int) -> Path:
    """An untrained U-Net and its ONNX graph, built in a child process: like a real
    ``monitor run-once``, the measuring process never imports torch (whose ~400k objects
    would make every full garbage collection of the runs ~3x slower)."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import bench_monitor as b; print(b.write_model({str(root)!r}, {base_width}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)  # fmt: skip
    return Path(out.stdout.strip().splitlines()[-1])


def write_model(root: str, base_width: int) -> Path:
    """What :func:`make_model` runs in its child process."""
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.inference.engine import load_engine
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", len(BANDS), base_width=base_width)
    spec = ModelSpec("unet", {"base_width": base_width}, BANDS, Normalization.identity(BANDS),
                     patch_size=128)  # fmt: skip
    directory = save_model(Path(root), model, spec)
    load_engine(directory, "onnx")  # export the graph once, outside the timings
    return directory


def aoi_boxes(n: int, aoi_px: int, scene_px: int) -> list[dict[str, Any]]:
    """``n`` lon/lat boxes of ``aoi_px`` tiled row by row over the scene (6 px margin)."""
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping

    from slidewatch.synthetic import CRS, ORIGIN

    per_row = (scene_px - 12) // aoi_px
    if per_row * per_row < n:
        raise SystemExit(f"{n} AOIs of {aoi_px} px do not fit a {scene_px} px scene")
    out = []
    for k in range(n):
        r, c = divmod(k, per_row)
        x0, y0 = ORIGIN[0] + 10 * (6 + c * aoi_px), ORIGIN[1] - 10 * (6 + r * aoi_px)
        square = box(x0 + 5, y0 - 10 * aoi_px + 5, x0 + 10 * aoi_px - 5, y0 - 5)
        out.append(dict(transform_geom(CRS, "EPSG:4326", mapping(square))))
    return out


def register(db_url: str, boxes: list[dict[str, Any]], model: Path, catalog: Path,
             webhook: str | None = None, min_new_area_m2: float = 2000.0) -> None:  # fmt: skip
    from slidewatch.models.identity import model_hash

    digest = model_hash(model)
    source = {"stac_url": str(catalog), "bands": ",".join(BANDS)}
    hooks = (webhook,) if webhook else ()
    with Registry(db_url) as registry:
        for k, geometry in enumerate(boxes):
            registry.add_aoi(AoiSettings(f"aoi-{k:03d}", geometry, str(model), digest, source,
                                         min_new_area_m2=min_new_area_m2,
                                         webhooks=hooks))  # fmt: skip


def measure(root: Path, boxes: list[dict[str, Any]], model: Path, catalog: Path,
            workers: int | None, label: str = "") -> dict[str, Any]:  # fmt: skip
    from slidewatch.monitoring.look.cycle import run_once
    from slidewatch.synthetic.example import FIRST

    home = root / f"home-{workers or 1}{label}"
    home.mkdir()
    config = MonitorConfig(f"sqlite:///{home / 'registry.db'}", str(home / "archive"),
                           str(home / "work"))  # fmt: skip
    register(config.db_url, boxes, model, catalog)
    collecting = GcClock()
    gc.callbacks.append(collecting)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the looks' stage lines
            outcomes, _ = run_once(config, now=FIRST.replace(day=3), workers=workers)
    finally:
        gc.callbacks.remove(collecting)
    wall = time.perf_counter() - t0
    states = sorted({o.state for o in outcomes})
    with Registry(config.db_url) as registry:
        timings = [r.timings for a in registry.list_aois() for r in registry.runs(a.name)]
    looks = sum(t["total_s"] for t in timings)
    archive = sum(p.stat().st_size for p in (home / "archive").rglob("*") if p.is_file())
    return {
        "archive_bytes_per_run": archive / max(1, len(outcomes)),
        "workers": workers or 1, "runs": len(outcomes), "states": states, "wall_s": wall,
        "runs_per_minute": 60 * len(outcomes) / wall,
        "fetch_s_median": statistics.median(t["fetch_s"] for t in timings),
        "detect_s_median": statistics.median(t["detect_s"] for t in timings),
        "run_s_median": statistics.median(t["total_s"] for t in timings),
        "overhead_share_of_run": sum(t["overhead_s"] for t in timings) / looks,
        "overhead_s_median": statistics.median(t["overhead_s"] for t in timings),
        "overhead_parts_s_median": {
            k: statistics.median(t.get(k, 0.0) for t in timings)
            for k in ("search_s", "change_s", "store_s", "record_s")
        } | {"other_s": statistics.median(t["overhead_s"] - sum(
            t.get(k, 0.0) for k in ("search_s", "change_s", "store_s", "record_s")
        ) for t in timings)},
        "outside_looks_s_per_run": max(0.0, wall - looks / (workers or 1)) / len(outcomes),
        "garbage_collection_s_per_run": collecting.total / len(outcomes),  # this process's
    }  # fmt: skip


class GcClock:
    """A ``gc.callbacks`` entry adding up the time Python's garbage collector takes."""

    def __init__(self) -> None:
        self.total, self._start = 0.0, 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aois", type=int, default=50)
    parser.add_argument("--aoi-px", type=int, default=200, help="AOI side (10 m pixels)")
    parser.add_argument("--scene-px", type=int, default=1614, help="multiple of 6")
    parser.add_argument("--base-width", type=int, default=16)
    parser.add_argument("--large-px", type=int, default=None, help="default: scene - 12")
    parser.add_argument("--only-large", action="store_true", help="skip (1)-(3) and (5)")
    parser.add_argument("--no-paper-model", action="store_true", help="skip (5)")
    parser.add_argument("--new-steps-only", action="store_true", help="only (6)")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    args = parser.parse_args()
    if args.new_steps_only:
        with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
            root = Path(tmp)
            catalog = make_two_dates(root / "catalog2", args.scene_px)
            model = make_trained_model(root / "trained")
            boxes = aoi_boxes(args.aois, args.aoi_px, args.scene_px)
            report = {"aois": args.aois, "aoi_km2": (args.aoi_px * 10 / 1000) ** 2,
                      "model": "the monitoring tests' trained U-Net (width 4), ONNX",
                      "new_steps": measure_new_steps(root, boxes, model, catalog)}  # fmt: skip
        print(json.dumps(report, indent=1))
        if args.out:
            args.out.write_text(json.dumps(report, indent=1) + "\n")
        return
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        root = Path(tmp)
        catalog = make_catalog(root / "catalog", args.scene_px)
        model = make_model(root / "model", args.base_width)
        boxes = aoi_boxes(args.aois, args.aoi_px, args.scene_px)
        one = two = {"runs_per_minute": float("nan"), "overhead_share_of_run": float("nan")}
        if not args.only_large:
            one = measure(root, boxes, model, catalog, None)
            two = measure(root, boxes, model, catalog, 2)
        large_px = args.large_px or args.scene_px - 12
        large = measure(root, aoi_boxes(1, large_px, args.scene_px), model, catalog, None, "L")
        paper: dict[str, Any] = {}
        if args.base_width == PAPER_WIDTH:
            paper = one
        elif not (args.only_large or args.no_paper_model):
            paper_model = make_model(root / "paper-model", PAPER_WIDTH)
            paper = measure(root, boxes, paper_model, catalog, None, "P")
        new_steps = measure_new_steps(root, boxes, make_trained_model(root / "trained"),
                                      make_two_dates(root / "catalog2", args.scene_px))  # fmt: skip
    km2 = (args.aoi_px * 10 / 1000) ** 2
    large_km2 = (large_px * 10 / 1000) ** 2
    large |= {
        "aoi_km2": large_km2,
        "fetch_s_per_km2": large["fetch_s_median"] / large_km2,
        "detect_s_per_km2": large["detect_s_median"] / large_km2,
        "run_s_per_km2": large["run_s_median"] / large_km2,
        "archive_bytes_per_km2": large["archive_bytes_per_run"] / large_km2,
    }
    report = {
        "aois": args.aois, "aoi_km2": km2, "model": f"unet base width {args.base_width}, ONNX",
        "one_process": one, "local_cluster_2_workers": two,
        "speedup_2_workers": two["runs_per_minute"] / one["runs_per_minute"],
        "overhead_goal_met": {  # < 5 % of the run, for each model measured
            f"unet width {w}": r["overhead_share_of_run"] < 0.05
            for w, r in ((args.base_width, one), (PAPER_WIDTH, paper))
            if "overhead_parts_s_median" in r
        },
        "large_aoi": large,
        "paper_model_one_process": paper | {"model": f"unet base width {PAPER_WIDTH}, ONNX"},
        "new_steps": new_steps,
    }  # fmt: skip
    print(json.dumps(report, indent=1))
    if args.out:  # stdout also holds the Dask workers' stage lines
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    lines = [("4 km² AOIs, 1 process", one), ("large AOI", large)]
    if paper is not one:
        lines.append((f"4 km² AOIs, the paper's U-Net (width {PAPER_WIDTH})", paper))
    for label, r in lines:
        if "overhead_parts_s_median" in r:
            print(breakdown(label, r), file=sys.stderr)


def breakdown(label: str, r: dict[str, Any]) -> str:
    """One line: the overhead's share of a run and its parts (medians, ms)."""
    parts = " + ".join(
        f"{k.removesuffix('_s')} {1000 * v:.1f}" for k, v in r["overhead_parts_s_median"].items()
    )
    return (
        f"{label}: overhead {100 * r['overhead_share_of_run']:.1f} % of the run "
        f"(median {1000 * r['overhead_s_median']:.1f} ms = {parts} ms; run "
        f"{1000 * r['run_s_median']:.0f} ms: fetch {1000 * r['fetch_s_median']:.0f}, "
        f"detect {1000 * r['detect_s_median']:.0f})"
    )


if __name__ == "__main__":
    main()
