"""A small model trained on the spot, for the end-to-end checks that a trained model goes
through monitoring (seconds on 2 CPU cores), and how a look's outlines score against the
example's scars.

Trained in plain torch on a synthetic area other than the example's, then its ONNX graph
is exported beside the weights, so the monitoring processes run it without torch. Its
weights, and so its outlines, depend on the processor's floating-point kernels: tests of the
monitoring logic use the hand-set ``threshold_model`` (slidewatch.synthetic.model) instead,
and tests with this one assert only what holds with a wide margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BANDS = ("B2", "B3", "B4", "B8")
SOURCE_BANDS = "B2,B3,B4,B8"


@dataclass(frozen=True)
class ScarScores:
    """A look's ``landslides.tif`` and ``probability.tif`` against the example's scars."""

    iou: float
    recall: float
    precision: float
    probability_on_scars: float
    probability_elsewhere: float


def scar_scores(products: dict[str, str], seed: int = 3, size_px: int = 180) -> ScarScores:
    """Score a look at the monitoring example (``write_example(size_px=, seed=)``, first date)
    against the scars the scene was painted with."""
    import rasterio

    from slidewatch.synthetic import ORIGIN, area_bands

    _, _, scars = area_bands(size_px, size_px, seed)
    with rasterio.open(products["landslides.tif"]) as ds:
        mask, valid = ds.read(1) == 1, ds.read(1) != ds.nodata
        col, row = ~ds.transform * ORIGIN
        top, left = -round(row), -round(col)  # the look's grid inside the scene's 10 m grid
    truth = scars[top : top + mask.shape[0], left : left + mask.shape[1]] & valid
    mask &= valid
    with rasterio.open(products["probability.tif"]) as ds:
        probability = ds.read(1)
    both = float((mask & truth).sum())
    return ScarScores(
        both / max(float((mask | truth).sum()), 1.0), both / max(float(truth.sum()), 1.0),
        both / max(float(mask.sum()), 1.0), float(probability[truth].mean()),
        float(probability[valid & ~truth].mean()),
    )  # fmt: skip


def train_small_model(out: Path, steps: int = 150, seed: int = 11) -> Path:
    import torch

    from slidewatch.bands import raw_to_l4s
    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model
    from slidewatch.synthetic import area_bands

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: more threads only contend
    bands, _, scars = area_bands(192, 192, seed)
    image = raw_to_l4s(np.stack([bands[b] for b in BANDS]).astype(np.float32), BANDS)
    mean, std = image.mean(axis=(1, 2)), image.std(axis=(1, 2))
    norm = Normalization("standard", BANDS, tuple(map(float, mean)), tuple(map(float, std)))
    x = torch.from_numpy(((image - mean[:, None, None]) / std[:, None, None]).astype(np.float32))
    y = torch.from_numpy(scars.astype(np.float32))
    model = build_model("unet", len(BANDS), base_width=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    pos_weight = torch.tensor((1 - scars.mean()) / max(scars.mean(), 1e-3))
    model.train()
    for _ in range(steps):
        corners = rng.integers(0, 192 - 64, size=(8, 2))
        xb = torch.stack([x[:, r : r + 64, c : c + 64] for r, c in corners])
        yb = torch.stack([y[r : r + 64, c : c + 64] for r, c in corners])[:, None]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(xb), yb, pos_weight=pos_weight
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    torch.set_num_threads(threads)
    spec = ModelSpec("unet", {"base_width": 4}, BANDS, norm, threshold=0.5, patch_size=128)
    directory = save_model(out, model, spec)
    from slidewatch.inference.engine import load_engine

    load_engine(directory, "onnx")  # exports the graph beside the weights, once
    return directory
