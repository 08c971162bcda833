"""Part (0) of bench_detect.py: engines, predict-stage and whole-process ratios, start-up, Dask.

All on 4-band (B4,B3,B2,B8) untrained seeded models and synthetic L4S-scale scenes; each
ratio is measured in one run, alternating the runs it compares (the machine may be busy).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from slidewatch.bands import BAND_SETS
from slidewatch.inference.windows import window_grid

RGBN = BAND_SETS["rgbn"]
FIRST_WINDOW = """
import sys, time
import slidewatch.inference.onnx_engine as onnx_engine
original = onnx_engine.OnnxEngine.predict
def first(self, batch):
    print("FIRST_WINDOW", time.time(), time.process_time(), flush=True)
    onnx_engine.OnnxEngine.predict = original
    return original(self, batch)
onnx_engine.OnnxEngine.predict = first
from slidewatch.cli import main
main(sys.argv[1:])
"""


def reader_clock() -> list[float]:
    """Make SceneReader.read add its thread CPU seconds to the returned one-item list."""
    from slidewatch.scene import SceneReader

    clock = [0.0]
    original = SceneReader.read

    def timed(self: SceneReader, *a: object, **k: object) -> object:
        start = time.thread_time()
        try:
            return original(self, *a, **k)  # type: ignore[arg-type]
        finally:
            clock[0] += time.thread_time() - start

    SceneReader.read = timed  # type: ignore[method-assign,assignment]
    return clock


def save_arch(folder: Path, architecture: str) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    options = {"base_width": 64} if architecture == "unet" else {}
    torch.manual_seed(0)
    model = build_model(architecture, len(RGBN), **options)
    spec = ModelSpec(architecture, options, RGBN, Normalization.identity(RGBN), threshold=0.9,
                     patch_size=128)  # fmt: skip
    return save_model(folder, model, spec)


def raw_seconds(model: Path, batch: np.ndarray, windows: int) -> dict[str, float]:
    """Seconds of each engine's bare predict over ``windows`` windows (warm engine)."""
    from bench_detect import forward_seconds  # type: ignore[import-not-found]

    from slidewatch.inference.engine import load_engine

    out = {}
    for name in ("torch", "onnx"):
        engine = load_engine(model, name)
        engine.predict(batch)
        out[name] = forward_seconds(engine, batch, windows)
    return out


def stage_seconds(
    scene: Path, model: Path, out: Path, args: argparse.Namespace, **kw: object
) -> float:
    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions

    options = DetectOptions(tile_px=args.tile, overlap_px=args.overlap,
                            batch_size=args.batch_size, **kw)  # type: ignore[arg-type]  # fmt: skip
    return float(detect(scene, model, out, options, progress=False).timings_s["predict"])


def _cli(args: list[str]) -> list[str]:
    return [sys.executable, "-c", FIRST_WINDOW, "detect", *args, "--quiet"]


def whole_process(tmp: Path, model: Path, batch: np.ndarray, args: argparse.Namespace) -> None:
    from bench_detect import make_scene  # type: ignore[import-not-found]

    big = make_scene(tmp / "big.tif", args.big, seed=3, bands=RGBN)
    windows = len(window_grid(args.big, args.big, args.tile, args.overlap))
    raw = min(raw_seconds(model, batch, min(windows, 200)).values()) * windows / min(windows, 200)
    cmd = _cli([str(big), "--model", str(model), "--out", str(tmp / "big_out"), "--tile-px",
                str(args.tile), "--overlap-px", str(args.overlap), "--batch-size",
                str(args.batch_size)])  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    print(f"    whole process on {args.big}² ({windows} windows): {wall:.1f} s, "
          f"{windows / wall:.1f} windows/s vs raw forward {windows / raw:.1f}: "
          f"ratio {raw / wall:.3f} (goal >= 0.7)")  # fmt: skip
    os.remove(big)


def first_window(scene: Path, model: Path, tmp: Path, args: argparse.Namespace) -> None:
    times, cpu = [], []
    for k in range(3):
        cmd = _cli([str(scene), "--model", str(model), "--out", str(tmp / f"fw{k}"), "--engine",
                    "onnx", "--tile-px", str(args.tile)])  # fmt: skip
        t0 = time.time()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        stamp = next(ln for ln in done.stdout.splitlines() if ln.startswith("FIRST_WINDOW"))
        times.append(float(stamp.split()[1]) - t0)
        cpu.append(float(stamp.split()[2]))
    print(
        f"    process start to first window (onnx engine, cached graph): median "
        f"{sorted(times)[1]:.2f} s of {', '.join(f'{t:.2f}' for t in times)} (goal < 2 s); "
        f"CPU time of the process until then {sorted(cpu)[1]:.2f} s (a load-independent view)"
    )


def dask_workers(scene: Path, model: Path, tmp: Path, args: argparse.Namespace) -> None:
    single = stage_seconds(scene, model, tmp / "d0", args)
    one = stage_seconds(scene, model, tmp / "d1", args, dask_workers=1)
    two = stage_seconds(scene, model, tmp / "d2", args, dask_workers=2)
    print(f"    predict stage: one process {single:.2f} s; Dask 1 worker {one:.2f} s; "
          f"2 workers {two:.2f} s ({two / single:.2f}× the single process; workers share "
          f"the {os.cpu_count()} cores, cluster start included)")  # fmt: skip


def engine_ratios(tmp: Path, args: argparse.Namespace) -> None:
    from bench_detect import forward_clock, make_scene, scene_batch  # type: ignore[import-not-found]

    from slidewatch.inference.engine import choose_engine

    scene = make_scene(tmp / "rgbn.tif", args.size, seed=2, bands=RGBN)
    windows = len(window_grid(args.size, args.size, args.tile, args.overlap))
    batch = scene_batch(scene, args.tile, args.batch_size)
    inside = forward_clock()
    reading = reader_clock()
    print(f"(0) engines: {args.size}² × 4 bands, {windows} windows of {args.tile}² px, "
          f"batch {args.batch_size}, {os.cpu_count()} cores")  # fmt: skip
    for k, arch in enumerate(args.architectures.split(",")):
        model = save_arch(tmp / f"m_{arch}", arch)
        runs = []
        for _ in range(max(1, min(args.repeats, 3))):
            raw = raw_seconds(model, batch, windows)
            inside[0] = reading[0] = 0.0
            stage = stage_seconds(scene, model, tmp / f"o_{arch}", args)
            runs.append((min(raw.values()) / stage, raw, stage, inside[0], reading[0]))
        ratio, raw, stage, fwd, read = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        print(f"  {arch}: raw torch {windows / raw['torch']:.1f}, onnx "
              f"{windows / raw['onnx']:.1f} windows/s; detect (auto = "
              f"{choose_engine(arch, 'cpu')}) {windows / stage:.1f} windows/s: ratio "
              f"{ratio:.3f} (goal >= 0.85; runs {', '.join(f'{r[0]:.3f}' for r in runs)}); "
              f"forward share of the stage {fwd / stage:.3f}; reader thread CPU "
              f"{read:.2f} s = {read / stage:.3f} of the stage")  # fmt: skip
        if k == 0:
            first_window(scene, model, tmp, args)
            dask_workers(scene, model, tmp, args)
            if args.big:
                whole_process(tmp, model, batch, args)
