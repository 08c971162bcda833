"""Part (4) of bench_detect.py: detect at 1024², 2048², 4096² on two masks, ratios in one run.

For each side and each mask — *mostly* (the model marks ~80 % of the ground as landslide, as
a weak model, a cloud or a burn scar can) and *scars* (~1 %, scattered) — one child process
runs ``detect`` (4-band ``unet-mobilenetv2``, untrained and seeded, ONNX engine) on a
synthetic L4S-scale scene and reports its time per stage, its peak RSS and, on 200 windows
of the same scene in the same process, the engine's raw forward throughput. Printed: the
polygons' growth per fourfold area (goal <= 5), predict / raw and whole detect / raw at
4096² (goals >= 0.85 and >= 0.7) and peak RSS 4096² / 2048² (goal <= 1.15).
The two masks come from one model with two thresholds: quantiles of its own output.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.bands import BAND_SETS

RGBN = BAND_SETS["rgbn"]
MASKS = {"mostly": 0.20, "scars": 0.99}
"""Threshold quantile of the model's output per mask: ~80 % and ~1 % landslide."""
SIZES = (1024, 2048, 4096)
RAW_WINDOWS = 200
TILE_PX = 10_980
"""A Sentinel-2 tile's side at 10 m."""
BLOCK_PX = 1_830
"""Side of one synthetic area in the tile scene (six of them across)."""
PIXEL_KM2 = 1e-4
DEFAULT_TILE_PATH = Path(tempfile.gettempdir()) / "slidewatch-bench" / "tile_10980.tif"


def save_model(
    folder: Path, architecture: str, threshold: float, bands: tuple[str, ...] = RGBN
) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec
    from slidewatch.models.modelfile import save_model as save
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(architecture, len(bands))
    spec = ModelSpec(architecture, {}, bands, Normalization.identity(bands), threshold=threshold,
                     patch_size=128)  # fmt: skip
    return save(folder, model, spec)


def mask_models(
    tmp: Path, scene: Path, architecture: str, tile: int, bands: tuple[str, ...] = RGBN
) -> dict[str, Path]:
    """One model folder per mask: same weights, thresholds at quantiles of its output."""
    from bench_detect import scene_batch  # type: ignore[import-not-found]

    from slidewatch.inference.engine import load_engine

    probe = save_model(tmp / "probe", architecture, 0.5, bands)
    out = load_engine(probe, "onnx").predict(scene_batch(scene, tile, 16))
    models = {}
    for name, q in MASKS.items():
        threshold = float(np.clip(np.quantile(out, q), 1e-4, 1 - 1e-4))
        models[name] = save_model(tmp / f"model_{name}", architecture, threshold, bands)
        load_engine(models[name], "onnx")  # export the graph here: children never load torch
    return models


def _peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM). Not ``ru_maxrss``: Linux carries that across the
    fork and exec that start a child, so it reports the parent's RSS when that was higher
    (the parent imported torch: 1,139 MiB in every row of the first run)."""
    with open("/proc/self/status") as f:
        line = next(ln for ln in f if ln.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(args: argparse.Namespace) -> None:
    """Detect, then the raw forward on RAW_WINDOWS windows of the scene; print one JSON line.

    The peak RSS (VmHWM) is read right after detect (the ONNX graph was exported by the
    parent, so torch is never imported here); the RSS is also sampled every 5 ms during
    detect: its peak minus the RSS before is what detect itself holds (a C call holding the
    GIL hides its peak from the sampler).
    """
    from bench_detect import forward_seconds, scene_batch  # type: ignore[import-not-found]

    import slidewatch.inference.detect as detect_module
    import slidewatch.inference.polygons as polygons_module
    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions
    from slidewatch.inference.engine import load_engine

    cpu: dict[str, float] = {}  # CPU seconds of every thread of the process, per stage

    def timed(module: Any, name: str, stage: str) -> None:
        original = getattr(module, name)

        def wrapper(*a: object, **k: object) -> object:
            start = time.process_time()
            try:
                return original(*a, **k)
            finally:
                cpu[stage] = time.process_time() - start

        setattr(module, name, wrapper)

    timed(detect_module, "_write_rasters", "predict")  # the streaming stage runs inside it
    timed(polygons_module, "find_polygons", "polygons")
    before, peak, stop = _rss_mib(), [0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    summary = detect(args.child, args.model, args.out,
                     DetectOptions(tile_px=args.tile, overlap_px=args.overlap,
                                   batch_size=args.batch_size, engine=args.engine,
                                   device=args.device),
                     progress=False).to_dict()  # fmt: skip
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    rss = _peak_rss_mib()
    torch_loaded = "torch" in sys.modules
    engine = load_engine(args.model, args.engine, args.device)
    batch = scene_batch(args.child, args.tile, args.batch_size)
    engine.predict(batch)
    cpu_start = time.process_time()
    raw = forward_seconds(engine, batch, RAW_WINDOWS) / RAW_WINDOWS
    raw_cpu = (time.process_time() - cpu_start) / RAW_WINDOWS
    line = json.dumps({
        "timings": summary["timings_s"], "wall": wall, "raw_per_window": raw,
        "windows": summary["scene"]["windows"], "polygons": summary["polygon_count"],
        "landslide_pixels": summary["landslide_pixels"], "rss_mib": rss,
        "before_mib": before, "detect_mib": peak[0] - before, "torch": torch_loaded,
        "predict_cpu": cpu["predict"], "polygons_cpu": cpu["polygons"],
        "raw_cpu_per_window": raw_cpu,
    })  # fmt: skip
    (Path(args.out) / "bench.json").write_text(line + "\n", encoding="utf-8")
    print(line)  # fmt: skip


def run_child(script: str, scene: Path, model: Path, out: Path, args: argparse.Namespace,
              extra: tuple[str, ...] = ()) -> dict:  # fmt: skip
    cmd = [sys.executable, script, "--child", str(scene), "--model", str(model), "--out",
           str(out), "--tile", str(args.tile), "--overlap", str(args.overlap), "--batch-size",
           str(args.batch_size), "--engine", args.engine, "--device", args.device,
           *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the detect child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_ratio(r: dict) -> float:
    """CPU seconds of the raw forward over the predict stage's (all threads): how much work
    beside the forward the stage adds, nearly independent of other load on the machine."""
    return r["raw_cpu_per_window"] * r["windows"] / r["predict_cpu"]


def scaling(tmp: Path, args: argparse.Namespace) -> dict:
    from bench_detect import make_scene  # type: ignore[import-not-found]

    sizes = [int(s) for s in args.sizes.split(",")]
    scenes = {s: make_scene(tmp / f"scene_{s}.tif", s, seed=4, bands=RGBN) for s in sizes}
    models = mask_models(tmp, scenes[sizes[0]], args.architecture, args.tile)
    print(f"(4) scaling: {args.architecture} (4 bands, untrained), engine {args.engine}, "
          f"tile {args.tile}, overlap {args.overlap}, batch {args.batch_size}; load before: "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print(
        "    mask    side  windows  land%  polygons  predict  cog  polygons_s  whole  "
        "raw  predict/raw  whole/raw  CPU predict/raw  polygons CPU s  "
        "RSS MiB (detect's own)"
    )
    results: dict = {}
    for name, model in models.items():
        for s in sizes:
            r = run_child(__file__, scenes[s], model, tmp / f"out_{name}_{s}", args)
            results[(name, s)] = r
            t, raw = r["timings"], r["raw_per_window"] * r["windows"]
            land = 100 * r["landslide_pixels"] / s**2
            print(f"    {name:7s} {s:5d} {r['windows']:8d} {land:5.1f}"
                  f" {r['polygons']:9d} {t['predict']:8.2f} {t['cog']:4.2f} {t['polygons']:11.2f}"
                  f" {r['wall']:6.1f} {raw:5.1f} {raw / t['predict']:12.3f} {raw / r['wall']:10.3f}"
                  f" {cpu_ratio(r):16.3f} {r['polygons_cpu']:14.2f}  {r['rss_mib']:.0f}"
                  f" ({r['detect_mib']:.0f})",
                  flush=True)  # fmt: skip
    for name in models:
        for a, b in itertools.pairwise(sizes):
            pa, pb = results[(name, a)], results[(name, b)]
            grow = pb["timings"]["polygons"] / max(pa["timings"]["polygons"], 1e-3)
            grow_cpu = pb["polygons_cpu"] / max(pa["polygons_cpu"], 1e-3)
            print(f"    {name} {b}²/{a}²: polygons ×{grow:.2f}, CPU time ×{grow_cpu:.2f} (goal "
                  f"<= 5); peak RSS "
                  f"×{pb['rss_mib'] / pa['rss_mib']:.3f} (goal <= 1.15 for 4096/2048), "
                  f"detect's own ×{pb['detect_mib'] / max(pa['detect_mib'], 1):.2f}")  # fmt: skip
    print(f"    load after: {os.getloadavg()[0]:.2f}")
    return results


def make_tile_scene(path: Path, distinct: int = 6) -> Path:
    """A 10,980² px 14-band L4S-scale COG (ZSTD, overviews) from the synthetic generator.

    ``distinct`` synthetic areas of 1,830² px (the generator takes ~8 s for one on this
    machine) are tiled 6 × 6; the file is kept at ``path`` and reused by later runs.
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from slidewatch.bands import BAND_NAMES
    from slidewatch.inference.cog import ZSTD_FAST, write_cog
    from slidewatch.synthetic.area import CRS, ORIGIN, PIXEL_M, SYNTHETIC_TAG, synthetic_arrays

    if path.is_file():
        print(f"    reusing {path}")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    blocks = [synthetic_arrays(BLOCK_PX, BLOCK_PX, seed=k)[0] for k in range(distinct)]
    raw = path.with_name(f".{path.name}.raw.tif")
    profile = {"driver": "GTiff", "dtype": "float32", "count": len(BAND_NAMES),
               "height": TILE_PX, "width": TILE_PX, "crs": CRS, "tiled": True,
               "transform": from_origin(*ORIGIN, PIXEL_M, PIXEL_M), "blockxsize": 512,
               "blockysize": 512, "BIGTIFF": "YES"}  # fmt: skip
    with rasterio.open(raw, "w", **profile) as ds:
        ds.descriptions = BAND_NAMES
        ds.update_tags(SYNTHETIC=SYNTHETIC_TAG)
        n = TILE_PX // BLOCK_PX
        for i in range(n):
            for j in range(n):
                window = Window(j * BLOCK_PX, i * BLOCK_PX, BLOCK_PX, BLOCK_PX)
                ds.write(blocks[(i * 5 + j) % distinct], window=window)
    del blocks
    write_cog(raw, path, "average", ZSTD_FAST)
    raw.unlink()
    print(f"    wrote {path} ({path.stat().st_size / 2**30:.2f} GiB) in "
          f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    return path


def tile_scene(tmp: Path, args: argparse.Namespace) -> dict:
    """``--tile-scene``: a whole Sentinel-2 tile through detect, the scars mask."""
    from slidewatch.bands import BAND_NAMES

    print(f"(5) a Sentinel-2 tile: {TILE_PX}² px × 14 bands, {args.architecture} on 14 bands "
          f"(untrained, scattered-scars threshold), engine {args.engine}, device "
          f"{args.device}; load before: {os.getloadavg()[0]:.2f}")  # fmt: skip
    scene = make_tile_scene(args.tile_path)
    models = mask_models(tmp, scene, args.architecture, args.tile, BAND_NAMES)
    r = run_child(__file__, scene, models["scars"], tmp / "out_tile", args)
    t, km2 = r["timings"], TILE_PX**2 * PIXEL_KM2
    raw = r["raw_per_window"] * r["windows"]
    print("    stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items()))
    print(f"    whole detect {r['wall']:.1f} s (goal <= 240 s): {km2 / r['wall']:.2f} km²/s; "
          f"predict {r['windows'] / t['predict']:.1f} windows/s ({r['windows']} windows) "
          f"against the raw forward's {r['windows'] / raw:.1f}: predict/raw "
          f"{raw / t['predict']:.3f}, whole/raw {raw / r['wall']:.3f}; CPU time "
          f"predict/raw {cpu_ratio(r):.3f}")  # fmt: skip
    print(f"    peak RSS {r['rss_mib']:.0f} MiB (goal <= 2048), detect's own "
          f"{r['detect_mib']:.0f} MiB above {r['before_mib']:.0f} MiB at start; "
          f"{r['polygons']} polygons, {100 * r['landslide_pixels'] / TILE_PX**2:.2f} % "
          f"landslide; load after: {os.getloadavg()[0]:.2f}")  # fmt: skip
    return r


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """This script's options (``bench_detect.py`` takes the defaults and sets a few)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--architecture", default="unet-mobilenetv2")
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--engine", default="onnx")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tile-scene", action="store_true", help="(5) only: a whole tile")
    parser.add_argument("--tile-path", type=Path, default=DEFAULT_TILE_PATH,
                        help="where the tile scene is written once and reused")  # fmt: skip
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as tmp:
        if args.tile_scene:
            tile_scene(Path(tmp), args)
        else:
            scaling(Path(tmp), args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
