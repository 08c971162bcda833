"""Windows/s of each architecture in each engine: the numbers behind ``--engine auto``.

For every registered architecture (untrained, seeded; unet at base width 64 as in the
paper), times ``predict`` of the torch and the onnx engine on the same batch (default 8
windows of 128² px × 14 bands), alternating engines so that a busy machine hurts both
alike, and prints a table plus the JSON rows that ``SLIDEWATCH_ENGINE_TABLE`` accepts.
Both engines use all cores. Run: ``.venv/bin/python bench/bench_engines.py [--seconds 6]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from slidewatch.bands import BAND_NAMES
from slidewatch.inference.engine import load_engine

ARCHITECTURES = {
    "unet-mobilenetv2": {},
    "unet-resnet34": {},
    "unet": {"base_width": 64},
    "segformer": {},
}


def save(folder: Path, architecture: str, options: dict) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(architecture, len(BAND_NAMES), **options)
    spec = ModelSpec(architecture, options, BAND_NAMES, Normalization.identity(BAND_NAMES))
    return save_model(folder, model, spec)


def rate(engine: object, batch: np.ndarray, seconds: float) -> float:
    """Windows/s of ``engine.predict`` over about ``seconds`` (after one warm-up call)."""
    engine.predict(batch)  # type: ignore[attr-defined]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        engine.predict(batch)  # type: ignore[attr-defined]
        n += len(batch)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=6.0, help="per engine and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batch = rng.uniform(0.5, 2.0, (args.batch_size, 14, args.tile, args.tile)).astype("f4")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.only:
            folder = save(Path(tmp) / arch, arch, ARCHITECTURES[arch])
            engines = {e: load_engine(folder, e, args.device) for e in ("torch", "onnx")}
            best = {e: 0.0 for e in engines}
            for _ in range(args.rounds):  # alternate; keep each engine's best round
                for name, engine in engines.items():
                    best[name] = max(best[name], rate(engine, batch, args.seconds))
            rows.append({"architecture": arch, "device": args.device.split(":")[0], **best})
            print(
                f"{arch:<17} torch {best['torch']:7.1f}  onnx {best['onnx']:7.1f} windows/s  "
                f"onnx/torch {best['onnx'] / best['torch']:.2f}",
                flush=True,
            )
    print(
        json.dumps(
            [{k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
        )
    )


if __name__ == "__main__":
    main()
