"""Large-area detection: engines, throughput, start-up, Dask, memory and a naive baseline.

Generates a 14-band L4S-scale scene (SIZE × SIZE, float32 GeoTIFF) and one four times
larger (2·SIZE × 2·SIZE), and an untrained unet (``--base-width``), then prints:

0. per architecture (unet-mobilenetv2, unet-resnet34, vanilla unet at width 64; 4 bands):
   the raw forward throughput of both engines, detect's predict stage (engine ``auto``) on
   the same windows and its ratio to the fastest raw forward (goal >= 0.85); for the first
   architecture also a whole ``slidewatch detect`` process on a BIG² scene against the raw
   forward (goal >= 0.7), the time from process start to the first window with the onnx
   engine (goal < 2 s), and the predict stage with 1 and 2 local Dask workers;
1. throughput of ``detect``'s streaming stage (read, forward, blend, write) in km²/s and
   windows/s, and its ratio to the model's pure forward throughput on the same number of
   windows (goal >= 0.85); also the end-to-end time including COGs, polygons, quicklook;
2. peak memory (max RSS of a child process running ``detect``) for both scenes and their
   ratio (goal <= 1.15);
3. a naive baseline (whole scene in memory, tiles without overlap, no blending): its speed
   and its seam strength (mean |jump| of the probability across tile borders / inside
   tiles) beside ours (across window borders / inside).

4. (bench_detect_scaling.py) detect at 1024², 2048², 4096² on a mostly-landslide and a
   scattered-scars mask: polygons' growth per fourfold area, predict and whole detect
   against the raw forward, peak RSS ratios, all from one run (``--scaling``: only this);
5. ``--tile-scene``: a whole Sentinel-2 tile (10,980² px, 14 bands, a tiled COG made from the
   synthetic generator) through detect: time per stage, windows/s, peak RSS, km²/s.
   ``--device cuda --engine torch`` (or ``onnx`` with onnxruntime-gpu) runs (4) and (5) on
   a GPU; raise ``--batch-size`` there.

Run: ``.venv/bin/python bench/bench_detect.py [--size 1024] [--big 4096] [--base-width 8]``.
Seam strength by overlap and training, and the fill of invalid pixels: bench/bench_seams.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from slidewatch.bands import BAND_NAMES
from slidewatch.inference.windows import window_grid


def make_scene(path: Path, size: int, seed: int = 0, bands: tuple[str, ...] = BAND_NAMES) -> Path:
    """A smooth, textured L4S-scale scene of ``bands``, written 256 rows at a time."""
    rng = np.random.default_rng(seed)
    all_means = np.array([1.1, 1.0, 1.0, 1.0, 1.2, 1.6, 1.7, 1.7, 1.5, 1.0, 1.6, 1.3, 1.5, 3.0])
    means = all_means[[BAND_NAMES.index(b) for b in bands]]
    count = len(bands)
    phases = rng.uniform(0, 2 * np.pi, size=(count, 2))
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": count,
        "dtype": "float32",
        "crs": "EPSG:32646",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "transform": from_origin(400000.0, 2500000.0, 10.0, 10.0),
    }
    xx = np.arange(size, dtype=np.float32)
    with rasterio.open(path, "w", **profile) as ds:
        ds.descriptions = bands
        for row in range(0, size, 256):
            h = min(256, size - row)
            yy = np.arange(row, row + h, dtype=np.float32)[:, None]
            block = np.empty((count, h, size), np.float32)
            for b in range(count):
                wave = np.sin(yy / 37.0 + phases[b, 0]) * np.cos(xx / 53.0 + phases[b, 1])
                block[b] = means[b] * (1 + 0.3 * wave + 0.05 * rng.standard_normal((h, size)))
            ds.write(block, window=Window(0, row, size, h))
    return path


def make_model(folder: Path, base_width: int) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", 14, base_width=base_width)
    # The untrained unet outputs ~0.5 everywhere; a high threshold keeps detections sparse,
    # as in real scenes (otherwise millions of one-pixel polygons dominate memory and time).
    spec = ModelSpec(
        "unet",
        {"base_width": base_width},
        BAND_NAMES,
        Normalization.identity(BAND_NAMES),
        threshold=0.9,
        patch_size=128,
    )
    return save_model(folder, model, spec)


def scene_batch(scene: Path, tile: int, batch_size: int) -> np.ndarray:
    """A batch of real windows from the scene (the forward pass sees the same kind of data)."""
    with rasterio.open(scene) as ds:
        per_row = ds.width // tile
        rows = -(-batch_size // per_row)
        image = ds.read(window=Window(0, 0, per_row * tile, rows * tile)).astype(np.float32)
    starts = [(k // per_row * tile, k % per_row * tile) for k in range(batch_size)]
    return np.stack([image[:, r : r + tile, c : c + tile] for r, c in starts])


def forward_seconds(predictor: object, batch: np.ndarray, windows: int) -> float:
    """Time of the model's pure forward pass over ``windows`` windows in batches."""
    start = time.perf_counter()
    for first in range(0, windows, len(batch)):
        predictor.predict(batch[: min(len(batch), windows - first)])  # type: ignore[attr-defined]
    return time.perf_counter() - start


def forward_clock() -> list[float]:
    """Make every engine's predict add its seconds to the returned one-item list."""
    from slidewatch.inference.engine import TorchEngine
    from slidewatch.inference.onnx_engine import OnnxEngine

    clock = [0.0]
    for cls in (TorchEngine, OnnxEngine):
        original = cls.predict

        def timed(self: object, batch: np.ndarray, original: object = original) -> np.ndarray:
            start = time.perf_counter()
            try:
                return original(self, batch)  # type: ignore[operator]
            finally:
                clock[0] += time.perf_counter() - start

        cls.predict = timed  # type: ignore[method-assign]
    return clock


def jumps(prob: np.ndarray, borders: list[int], margin: int) -> tuple[float, float]:
    """Mean |jump| between neighbouring columns and rows at ``borders`` vs elsewhere."""
    out = []
    for axis in (0, 1):
        diffs = np.abs(np.diff(prob, axis=axis)).mean(axis=1 - axis)
        at = np.zeros(diffs.size, bool)
        at[[b - 1 for b in borders if 0 < b <= diffs.size]] = True
        away = np.zeros_like(at)
        away[margin : diffs.size - margin] = True
        out.append((diffs[at & away].mean(), diffs[~at & away].mean()))
    return float(np.mean([a for a, _ in out])), float(np.mean([b for _, b in out]))


def naive(scene: Path, model_dir: Path, tile: int, batch_size: int) -> tuple[float, np.ndarray]:
    """The paper's way: whole scene in memory, tiles without overlap, no blending."""
    from slidewatch.inference.engine import load_engine

    predictor = load_engine(model_dir)
    start = time.perf_counter()
    with rasterio.open(scene) as ds:
        image = ds.read().astype(np.float32)
    h, w = image.shape[1:]
    padded = np.pad(image, ((0, 0), (0, -h % tile), (0, -w % tile)), mode="reflect")
    starts = [
        (r, q) for r in range(0, padded.shape[1], tile) for q in range(0, padded.shape[2], tile)
    ]
    prob = np.zeros(padded.shape[1:], np.float32)
    for first in range(0, len(starts), batch_size):
        chunk = starts[first : first + batch_size]
        batch = np.stack([padded[:, r : r + tile, q : q + tile] for r, q in chunk])
        for (r, q), p in zip(chunk, predictor.predict(batch), strict=True):
            prob[r : r + tile, q : q + tile] = p
    return time.perf_counter() - start, prob[:h, :w]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_detect(args: argparse.Namespace) -> None:
    """In a child process: run detect and print its summary, max RSS and detect's own peak.

    The process high-water mark (ru_maxrss) is dominated by importing torch, so the RSS is
    also sampled every 5 ms during ``detect``: its peak minus the RSS just before is what
    detection itself holds.
    """
    import threading

    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions
    from slidewatch.inference.engine import load_engine

    engine = load_engine(args.model, "auto", "cpu")  # imports and (once) the ONNX export
    engine.predict(np.zeros((1, len(engine.bands), args.tile, args.tile), np.float32))
    before = _rss_mib()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    summary = detect(
        args.child,
        args.model,
        args.out,
        DetectOptions(
            tile_px=args.tile,
            overlap_px=args.overlap,
            batch_size=args.batch_size,
            device="cpu",
            panel_px=args.panel_px or None,
        ),
        progress=False,
    )
    stop.set()
    sampler.join()
    from bench_detect_scaling import _peak_rss_mib  # type: ignore[import-not-found]

    rss_mib = _peak_rss_mib()  # not ru_maxrss: Linux carries the parent's across fork+exec
    print(json.dumps({"summary": summary, "rss_mib": rss_mib, "detect_mib": peak[0] - before}))


def run_child(scene: Path, model: Path, out: Path, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(scene),
        "--model",
        str(model),
        "--out",
        str(out),
        "--tile",
        str(args.tile),
        "--overlap",
        str(args.overlap),
        "--batch-size",
        str(args.batch_size),
        "--panel-px",
        str(args.panel_px or args.size // 2),
    ]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="side of the smaller scene (px)")
    parser.add_argument("--base-width", type=int, default=16, help="unet base width")
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="16 for (0)-(3), 8 for (4) and (5)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of (1)")
    parser.add_argument("--big", type=int, default=4096, help="side of the whole-process scene")
    parser.add_argument(
        "--architectures",
        default="unet-mobilenetv2,unet-resnet34,unet",
        help="architectures of (0), comma-separated (unet at base width 64)",
    )
    parser.add_argument("--skip-engines", action="store_true", help="skip (0)")
    parser.add_argument(
        "--panel-px",
        type=int,
        default=0,
        help="detect's panel width in the memory runs (0: half the smaller scene, so both "
        "scenes are processed in panels: 2 and 4 of them)",
    )
    parser.add_argument("--scaling", action="store_true", help="only (4)")
    parser.add_argument("--tile-scene", action="store_true", help="only (5): a whole tile")
    parser.add_argument("--engine", default="onnx", help="engine of (4) and (5)")
    parser.add_argument("--device", default="cpu", help="device of (4) and (5): cpu, cuda")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.batch_size = args.batch_size or 16
        child_detect(args)
        return
    import bench_detect_scaling as scaling  # type: ignore[import-not-found]

    part = scaling.parse([])
    part.engine, part.device = args.engine, args.device
    part.batch_size = args.batch_size or part.batch_size
    args.batch_size = args.batch_size or 16
    with tempfile.TemporaryDirectory(prefix="bench_detect_") as tmp:
        if args.tile_scene:
            scaling.tile_scene(Path(tmp), part)
            return
        if not args.scaling:
            report(Path(tmp), args)
        scaling.scaling(Path(tmp), part)


def throughput(tmp: Path, small: Path, model: Path, args: argparse.Namespace) -> float:
    """Print (1); return the streaming stage's seconds of the median run."""
    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions
    from slidewatch.inference.engine import load_engine

    size, tile = args.size, args.tile
    km2, windows = size * size * 100 / 1e6, len(window_grid(size, size, tile, args.overlap))
    batch = scene_batch(small, tile, args.batch_size)
    inside = forward_clock()
    runs = []
    for _ in range(args.repeats):  # alternate: the machine may be busy with other work
        forward = forward_seconds(load_engine(model), batch, windows)  # cold, like detect's
        inside[0] = 0.0
        summary = detect(
            small,
            model,
            tmp / "out_small",
            DetectOptions(
                tile_px=tile, overlap_px=args.overlap, batch_size=args.batch_size, device="cpu"
            ),
            progress=False,
        )
        stage = summary.timings_s["predict"]
        total = sum(summary.timings_s.values())
        runs.append((forward / stage, forward, stage, inside[0], total))
    ratio, forward, stage, in_forward, total = sorted(runs)[len(runs) // 2]  # the median run
    print(f"(1) throughput (median of {args.repeats} alternating runs)")
    print(
        f"    streaming stage {stage:.2f} s: {km2 / stage:.3f} km²/s, "
        f"{windows / stage:.1f} windows/s"
    )
    print(f"    pure forward    {forward:.2f} s: {windows / forward:.1f} windows/s")
    print(
        f"    ratio streaming/forward throughput: {ratio:.3f} (goal >= 0.85); all runs: "
        + ", ".join(f"{r[0]:.3f}" for r in runs)
    )
    print(
        "    share of the streaming stage spent inside the forward pass: "
        f"{in_forward / stage:.3f} (a load-independent view of the same ratio)"
    )
    print(f"    end to end (with COGs, polygons, quicklook) {total:.2f} s: {km2 / total:.3f} km²/s")
    return stage


def report(tmp: Path, args: argparse.Namespace) -> None:
    from bench_engine_ratios import engine_ratios  # type: ignore[import-not-found]

    if not args.skip_engines:
        engine_ratios(tmp, args)
    size, tile = args.size, args.tile
    model = make_model(tmp / "model", args.base_width)
    small = make_scene(tmp / "small.tif", size)
    large = make_scene(tmp / "large.tif", 2 * size, seed=1)
    km2 = size * size * 100 / 1e6
    grid = window_grid(size, size, tile, args.overlap)
    print(
        f"scene {size}×{size}×14 ({km2:.1f} km²), unet base width {args.base_width}, "
        f"tile {tile}, overlap {args.overlap}, batch {args.batch_size}: {len(grid)} windows"
    )
    stage = throughput(tmp, small, model, args)

    ours = run_child(small, model, tmp / "out_small_child", args)
    big = run_child(large, model, tmp / "out_large", args)
    print(
        "(2) peak memory (max RSS of a child process running detect; panels of "
        f"{args.panel_px or args.size // 2} columns)"
    )
    print(
        f"    {size}×{size}: {ours['rss_mib']:.0f} MiB; {2 * size}×{2 * size} (4× area): "
        f"{big['rss_mib']:.0f} MiB; ratio {big['rss_mib'] / ours['rss_mib']:.3f} (goal <= 1.15)\n"
        f"    held by detect itself (sampled RSS above the level after imports and model load): "
        f"{ours['detect_mib']:.0f} MiB vs {big['detect_mib']:.0f} MiB; "
        f"ratio {big['detect_mib'] / max(ours['detect_mib'], 1.0):.3f}"
    )

    naive_s, naive_prob = naive(small, model, tile, args.batch_size)
    n_border, n_inside = jumps(naive_prob, list(range(tile, size, tile)), tile)
    with rasterio.open(tmp / "out_small" / "probability.tif") as ds:
        our_prob = ds.read(1)
    edges = sorted({s + d for s in grid.col_starts for d in (0, tile)})
    o_border, o_inside = jumps(our_prob, edges, tile)
    print("(3) naive baseline (whole scene in memory, no overlap, no blending) vs ours")
    print(
        f"    naive: {naive_s:.2f} s, {km2 / naive_s:.3f} km²/s; ours (streaming stage, "
        f"{len(grid)} overlapping windows) {km2 / stage:.3f} km²/s"
    )
    print(
        f"    seam strength naive: |jump| across tile borders {n_border:.5f} vs inside "
        f"{n_inside:.5f} -> {n_border / n_inside:.2f}×"
    )
    print(
        f"    seam strength ours:  |jump| across window borders {o_border:.5f} vs inside "
        f"{o_inside:.5f} -> {o_border / o_inside:.2f}×"
    )


if __name__ == "__main__":
    main()
