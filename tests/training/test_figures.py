"""``evaluate --figure``: a probability column and each patch's F1."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from slidewatch.training.figures import (
    PatchView,
    draw_predictions,
    patch_f1_text,
    prediction_figure,
)


def view(mask: np.ndarray, prob: np.ndarray, name: str = "p") -> PatchView:
    image = np.random.default_rng(0).random((3, *mask.shape)).astype(np.float32)
    return PatchView(name, image, ("B4", "B3", "B2"), mask, prob)


def test_patch_f1_text() -> None:
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 1
    prob = np.zeros((8, 8), np.float32)
    prob[:2] = 0.9  # half the landslide found, nothing else: F1 = 2/3
    assert patch_f1_text(view(mask, prob), 0.5) == "F1 0.67"
    assert patch_f1_text(view(mask * 0, prob * 0), 0.5) == "F1 n/a (no landslide, none predicted)"


def test_figure_has_a_probability_column_and_per_patch_f1(tmp_path: Path) -> None:
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 1
    views = [view(mask, np.where(mask, 0.8, 0.3).astype(np.float32), "a/1"),
             view(mask * 0, np.full((16, 16), 0.1, np.float32), "a/2")]  # fmt: skip
    fig = prediction_figure(views, threshold=0.5)
    axes = fig.axes
    titles = [ax.get_title() for ax in axes[:4]]
    assert titles == ["RGB", "ground truth", "probability", "prediction (p ≥ 0.50)"]
    assert axes[0].get_ylabel() == "a/1\nF1 1.00"
    assert axes[4].get_ylabel() == "a/2\nF1 n/a (no landslide, none predicted)"
    assert axes[2].images[0].get_array().max() == np.float32(0.8)  # probabilities, not 0/1
    plt.close(fig)
    draw_predictions(views, tmp_path / "f.png", threshold=0.5)
    with Image.open(tmp_path / "f.png") as png:
        assert png.width > 700
