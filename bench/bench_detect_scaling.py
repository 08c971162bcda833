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
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from slidewatch.bands import BAND_SETS
from slidewatch.inference.windows import window_grid

RGBN = BAND_SETS["rgbn"]
MASKS = {"mostly": 0.20, "scars": 0.99}
"""Threshold quantile of the model's output per mask: ~80 % and ~1 % landslide."""
SIZES = (1024, 2048, 4096)
RAW_WINDOWS = 200


def save_model(folder: Path, architecture: str, threshold: float) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec
    from slidewatch.models.modelfile import save_model as save
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(architecture, len(RGBN))
    spec = ModelSpec(architecture, {}, RGBN, Normalization.identity(RGBN), threshold=threshold,
                     patch_size=128)  # fmt: skip
    return save(folder, model, spec)


def mask_models(tmp: Path, scene: Path, architecture: str, tile: int) -> dict[str, Path]:
    """One model folder per mask: same weights, thresholds at quantiles of its output."""
    from bench_detect import scene_batch  # type: ignore[import-not-found]

    from slidewatch.inference.engine import load_engine

    probe = save_model(tmp / "probe", architecture, 0.5)
    out = load_engine(probe, "onnx").predict(scene_batch(scene, tile, 16))
    models = {}
    for name, q in MASKS.items():
        threshold = float(np.clip(np.quantile(out, q), 1e-4, 1 - 1e-4))
        models[name] = save_model(tmp / f"model_{name}", architecture, threshold)
    return models


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(args: argparse.Namespace) -> None:
    """Raw forward on RAW_WINDOWS windows, then detect; print one JSON line."""
    from bench_detect import forward_seconds, scene_batch  # type: ignore[import-not-found]

    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions
    from slidewatch.inference.engine import load_engine

    engine = load_engine(args.model, args.engine, args.device)
    batch = scene_batch(args.child, args.tile, args.batch_size)
    engine.predict(batch)
    raw = forward_seconds(engine, batch, RAW_WINDOWS) / RAW_WINDOWS
    del engine
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
    print(json.dumps({
        "timings": summary["timings_s"], "wall": wall, "raw_per_window": raw,
        "windows": summary["scene"]["windows"], "polygons": summary["polygon_count"],
        "landslide_pixels": summary["landslide_pixels"],
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "before_mib": before, "detect_mib": peak[0] - before,
    }))  # fmt: skip


def run_child(script: str, scene: Path, model: Path, out: Path, args: argparse.Namespace,
              extra: tuple[str, ...] = ()) -> dict:  # fmt: skip
    cmd = [sys.executable, script, "--child", str(scene), "--model", str(model), "--out",
           str(out), "--tile", str(args.tile), "--overlap", str(args.overlap), "--batch-size",
           str(args.batch_size), "--engine", args.engine, "--device", args.device, *extra]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
        "raw  predict/raw  whole/raw  RSS MiB (detect's own)"
    )
    results: dict = {}
    for name, model in models.items():
        for s in sizes:
            r = run_child(__file__, scenes[s], model, tmp / f"out_{name}_{s}", args)
            results[(name, s)] = r
            t, raw = r["timings"], r["raw_per_window"] * r["windows"]
            print(f"    {name:7s} {s:5d} {r['windows']:8d} {100 * r['landslide_pixels'] / s**2:5.1f}"
                  f" {r['polygons']:9d} {t['predict']:8.2f} {t['cog']:4.2f} {t['polygons']:11.2f}"
                  f" {r['wall']:6.1f} {raw:5.1f} {raw / t['predict']:12.3f} {raw / r['wall']:10.3f}"
                  f"  {r['rss_mib']:.0f} ({r['detect_mib']:.0f})", flush=True)  # fmt: skip
    for name in models:
        for a, b in zip(sizes, sizes[1:], strict=False):
            pa, pb = results[(name, a)], results[(name, b)]
            print(f"    {name}: polygons {b}²/{a}² {pb['timings']['polygons'] / max(pa['timings']['polygons'], 1e-3):.2f}"
                  f" (goal <= 5); peak RSS {pb['rss_mib'] / pa['rss_mib']:.3f} (goal <= 1.15 for 4096/2048),"
                  f" detect's own {pb['detect_mib'] / max(pa['detect_mib'], 1):.2f}")  # fmt: skip
    print(f"    load after: {os.getloadavg()[0]:.2f}")
    return results


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--architecture", default="unet-mobilenetv2")
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--engine", default="onnx")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as tmp:
        scaling(Path(tmp), args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
