"""Seams by overlap and training, and the fill of invalid pixels (issue 7, section 2).

Trains two small U-Nets on a synthetic area (``slidewatch.synthetic``): a weakly
trained one (``--weak-epochs``, F1 about 0.17) and a well-trained one (``--epochs``), then
runs ``detect`` over a separate synthetic scene with 25 % and 50 % overlap and prints, for each:

- seam strength: mean |jump| of the probability between neighbouring columns/rows at
  window borders ÷ the mean |jump| elsewhere (1.0 = no seam);
- the profile of jumps by position within the window step (8 bins, first bin = the
  columns just after a window start), relative to the mean;
- F1 against the synthetic truth (overlap changes accuracy little; speed is 1/(1-overlap)²
  windows per pixel).

Then, with the well-trained model, the bias that a no-data hole puts on its valid
neighbours (mean |Δprobability| within 16 px of the hole, against the same scene without
the hole) for each fill of :mod:`slidewatch.inference.fill`.

Run: ``.venv/bin/python bench/bench_seams.py [--train-px 384] [--epochs 8]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import rasterio


def train_models(tmp: Path, args: argparse.Namespace) -> dict[str, Path]:
    from slidewatch.data.build import build_patches
    from slidewatch.synthetic import make_synthetic_area
    from slidewatch.training.config import TrainConfig
    from slidewatch.training.train import train

    area = make_synthetic_area(tmp / "train", args.train_px, args.train_px, 7)
    built = build_patches(area.scene, area.labels, tmp / "patches", size=128, stride=64,
                          scale="none", overwrite=True, progress=False)  # fmt: skip
    models = {}
    for name, epochs in (("weak", args.weak_epochs), ("well-trained", args.epochs)):
        config = dataclasses.replace(
            TrainConfig(), data=(str(built.out),), arch="unet",
            arch_options={"base_width": 8}, bands="all14", epochs=epochs, batch_size=8,
            seed=7, out=str(tmp / f"run-{name}"), device="cpu", num_devices=1,
        )  # fmt: skip
        models[name] = train(config, progress=False)
    return models


def seam_numbers(prob: np.ndarray, starts: tuple[int, ...], stride: int, tile: int):  # type: ignore[no-untyped-def]
    """(border/elsewhere ratio, 8-bin profile by position in the step) along columns+rows."""
    ratios, profiles = [], []
    for axis in (0, 1):
        diffs = np.nanmean(np.abs(np.diff(prob, axis=axis)), axis=1 - axis)
        n = diffs.size
        inner = np.arange(tile, n - tile)  # away from the scene edges
        border = np.zeros(n, bool)
        for s in starts:
            for edge in (s, s + tile):  # a window starts or ends between edge-1 and edge
                if 0 < edge <= n:
                    border[edge - 1] = True
        at, away = diffs[inner][border[inner]], diffs[inner][~border[inner]]
        ratios.append(at.mean() / away.mean())
        pos = (inner + 1 - starts[1]) % stride
        bins = np.array([diffs[inner][pos * 8 // stride == b].mean() for b in range(8)])
        profiles.append(bins / diffs[inner].mean())
    return float(np.mean(ratios)), np.mean(profiles, axis=0)


def f1_against(landslides: Path, labels: Path) -> float:
    from slidewatch.demo import scores_against_truth

    return float(scores_against_truth(landslides, labels)["f1"])


def seams(tmp: Path, models: dict[str, Path], args: argparse.Namespace) -> None:
    from slidewatch.inference.detect import detect
    from slidewatch.inference.windows import window_grid
    from slidewatch.synthetic import make_synthetic_area

    scene = make_synthetic_area(tmp / "scene", args.scene_px, args.scene_px, 8)
    tile = 128
    print(f"seams: {args.scene_px}² synthetic scene, tile {tile}, Hann-weighted blending")
    for name, model in models.items():
        for overlap in (tile // 4, tile // 2):
            out = tmp / f"det-{name}-{overlap}"
            summary = detect(scene.scene, model, out, tile=tile, overlap=overlap, scale="none",
                             progress=False, engine="onnx")  # fmt: skip
            with rasterio.open(out / "probability.tif") as ds:
                prob = ds.read(1).astype(np.float64)
            grid = window_grid(args.scene_px, args.scene_px, tile, overlap)
            ratio, profile = seam_numbers(prob, grid.col_starts, tile - overlap, tile)
            print(f"  {name:<13} overlap {overlap:>2} px ({overlap * 100 // tile} %): seam "
                  f"{ratio:.2f}×, profile by position in the step "
                  f"[{' '.join(f'{v:.2f}' for v in profile)}], F1 "
                  f"{f1_against(out / 'landslides.tif', scene.labels):.3f}, predict "
                  f"{summary['timings_s']['predict']:.1f} s")  # fmt: skip


def fill_bias(tmp: Path, model: Path, args: argparse.Namespace) -> None:
    from slidewatch.inference.blending import window_weights
    from slidewatch.inference.engine import load_engine
    from slidewatch.inference.fill import FILLS, make_filler
    from slidewatch.inference.runner import predict_rows
    from slidewatch.inference.scene import SceneReader, open_scene
    from slidewatch.inference.windows import window_grid
    from slidewatch.synthetic import make_synthetic_area

    size = 384
    area = make_synthetic_area(tmp / "fill", size, size, 9)
    with rasterio.open(area.scene) as ds:
        data, profile = ds.read(), ds.profile
    holed = data.copy()
    holed[:, 150:230, 120:260] = -9999.0
    profile.update(nodata=-9999.0)
    with rasterio.open(tmp / "holed.tif", "w", **profile) as ds:
        ds.write(holed)
        ds.descriptions = area.bands
    engine = load_engine(model, "onnx")
    grid, weights = window_grid(size, size, 128, 32), window_weights(128)

    def run(path: Path, method: str) -> np.ndarray:
        opened = open_scene([path], engine.bands, scale="none")
        with SceneReader(opened) as reader:
            rows = predict_rows(reader, engine.predict, grid, weights,
                                fill=make_filler(engine.spec, method))  # fmt: skip
            return np.concatenate([p for _, p, _ in rows])

    truth = run(area.scene, "zero")
    near = np.zeros((size, size), bool)
    near[134:246, 104:276] = True
    near[150:230, 120:260] = False
    biases = {m: float(np.abs(run(tmp / "holed.tif", m) - truth)[near].mean()) for m in FILLS}
    print(
        "fill of invalid pixels (well-trained model): mean |Δp| of valid pixels within 16 px "
        "of an 80×140 px hole: " + ", ".join(f"{m} {b:.4f}" for m, b in biases.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-px", type=int, default=384)
    parser.add_argument("--scene-px", type=int, default=768)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--weak-epochs", type=int, default=6, help="epochs of the weakly trained model"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_seams_") as tmp:
        models = train_models(Path(tmp), args)
        seams(Path(tmp), models, args)
        fill_bias(Path(tmp), models["well-trained"], args)


if __name__ == "__main__":
    main()
