"""The main job on embedded defaults: synthetic area → patches → small model → detection.

Everything is generated on the spot (nothing is downloaded), so the whole pipeline can be
seen working on any machine in a few minutes. The data are synthetic and the outputs say so.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from slidewatch.errors import ConfigError


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo; the defaults finish in about a minute on 2 CPU cores."""

    train_size_px: int = 640
    """Side of the synthetic training area (patches are cut from it)."""
    scene_size_px: int = 1536
    """Side of the separate synthetic scene the model is run over (1536 px = 236 km²)."""
    stride_px: int = 64
    """Stride between training patches (128 px patches overlap by half)."""
    epochs: int = 12
    """Training epochs (early stopping still applies)."""
    patience: int = 3
    """Epochs without a better validation loss before training stops."""
    base_width: int = 16
    """U-Net base width (64 in the paper; 16 keeps the demo fast on a CPU)."""
    batch_size: int = 16
    """Training batch size."""
    seed: int = 7
    """Seed of the synthetic areas and the training split."""


SMALL = DemoSettings(train_size_px=256, scene_size_px=384, stride_px=128, epochs=1, base_width=4)
"""A seconds-long variant used by the tests (`slidewatch demo --small`)."""


def run_demo(
    out: Path,
    settings: DemoSettings = DemoSettings(),
    log: Callable[[str], Any] = print,
    progress: bool = True,
    device: str = "cpu",
) -> dict[str, Any]:
    """Run the whole pipeline into ``out``; returns the detection summary with paths added.

    A previous demo's run folder in ``out`` is replaced (the demo owns that folder).
    """
    from slidewatch.data.build import build_patches
    from slidewatch.inference.detect import detect
    from slidewatch.synthetic import make_synthetic_area
    from slidewatch.training.config import TrainConfig
    from slidewatch.training.train import train

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "demo.txt").exists():
        raise ConfigError(f"{out} exists and is not a slidewatch demo folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "demo.txt").write_text("slidewatch demo outputs; all data here are SYNTHETIC.\n")
    s = settings
    t0 = time.perf_counter()
    log("slidewatch demo: the data are SYNTHETIC (generated terrain, vegetation and scars).")

    log(f"[1/4] generating a {s.train_size_px}² px training area and a {s.scene_size_px}² px scene")
    train_area = make_synthetic_area(out / "train-area", s.train_size_px, s.train_size_px, s.seed)
    scene = make_synthetic_area(out / "scene", s.scene_size_px, s.scene_size_px, s.seed + 1)

    log("[2/4] cutting L4S patches (128 px) from the training area")
    built = build_patches(
        train_area.scene, train_area.labels, out / "patches", size=128, stride=s.stride_px,
        scale="none", overwrite=True, progress=progress,
    )  # fmt: skip
    log(f"      {built.n_patches} patches in {built.out}")

    log(f"[3/4] training a small U-Net (width {s.base_width}, {s.epochs} epochs, device {device})")
    config = replace(
        TrainConfig(),
        data=(str(built.out),), arch="unet", arch_options={"base_width": s.base_width},
        bands="all14", epochs=s.epochs, batch_size=s.batch_size, seed=s.seed,
        patience=s.patience,
        out=str(out / "run"), device=device, num_devices=1, augment=True,
    )  # fmt: skip
    if (out / "run" / "config.yaml").is_file():  # a previous demo's run
        shutil.rmtree(out / "run")
    model_dir = train(config, progress=progress)

    log("[4/4] detecting landslides over the scene (blended overlapping windows → COGs)")
    summary = detect(
        scene.scene, model_dir, out / "detection", tile=128, overlap=32, batch_size=16,
        scale="none", min_area_m2=1000.0, device=device, progress=progress, engine="auto",
    )  # fmt: skip
    summary["demo"] = {
        "synthetic": True,
        "true_landslide_fraction": scene.landslide_fraction,
        "scores_against_truth": scores_against_truth(
            out / "detection" / "landslides.tif", scene.labels
        ),
        "model_dir": str(model_dir),
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }
    (out / "demo.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def scores_against_truth(landslides_tif: Path, labels_tif: Path) -> dict[str, float]:
    """Pixel precision, recall, F1 and IoU of a detection raster against the true labels."""
    import rasterio

    from slidewatch.metrics import confusion_counts, scores_from_counts

    with rasterio.open(landslides_tif) as det, rasterio.open(labels_tif) as lab:
        pred, truth = det.read(1), lab.read(1)
    seen = pred != 255  # no-data pixels are not judged
    return scores_from_counts(confusion_counts(pred[seen] == 1, truth[seen] == 1))
