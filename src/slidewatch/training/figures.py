"""Figures: the paper's Figure 3 (RGB | ground truth | probability | prediction, with each
patch's F1) and the model comparison.

Pure array functions (:mod:`slidewatch.rgb`) prepare what is drawn; the drawing functions
only lay it out and write the PNG atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from slidewatch.data.figures import save_figure
from slidewatch.metrics import confusion_counts, scores_from_counts
from slidewatch.rgb import rgb_composite
from slidewatch.threshold import is_landslide


@dataclass(frozen=True)
class PatchView:
    """One row of Figure 3."""

    id: str
    """Patch identifier shown as the row title."""
    image: np.ndarray
    """C×H×W image in L4S scale (before normalisation)."""
    bands: tuple[str, ...]
    """Band names of ``image``."""
    mask: np.ndarray | None
    """Ground truth H×W (0/1), if known."""
    probability: np.ndarray
    """Predicted landslide probability H×W."""


def patch_f1_text(view: PatchView, threshold: float) -> str:
    """``F1 0.62`` of one patch at ``threshold`` (n/a when there is nothing to find or find)."""
    if view.mask is None:
        return "F1 n/a (no ground truth)"
    counts = confusion_counts(view.probability >= threshold, view.mask)
    if counts["tp"] + counts["fp"] + counts["fn"] == 0:
        return "F1 n/a (no landslide, none predicted)"
    return f"F1 {scores_from_counts(counts)['f1']:.2f}"


def draw_predictions(views: Sequence[PatchView], path: Path, threshold: float = 0.5) -> Path:
    """Write :func:`prediction_figure` to ``path`` (PNG)."""
    return save_figure(prediction_figure(views, threshold), path)


def prediction_figure(views: Sequence[PatchView], threshold: float = 0.5) -> Any:
    """The paper's Figure 3 with the probabilities: one row per patch, RGB | ground truth |
    probability | prediction, each row labelled with the patch and its own F1."""
    fig, axes = plt.subplots(
        len(views), 4, figsize=(10.5, 2.6 * len(views)), squeeze=False, layout="constrained"
    )
    shown = None
    for row, view in zip(axes, views, strict=True):
        row[0].imshow(rgb_composite(view.image, view.bands))
        row[0].set_ylabel(f"{view.id}\n{patch_f1_text(view, threshold)}", fontsize=8)
        if view.mask is not None:
            row[1].imshow(view.mask, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        shown = row[2].imshow(view.probability, cmap="magma", vmin=0, vmax=1)
        row[3].imshow(is_landslide(view.probability, threshold), cmap="gray", vmin=0, vmax=1)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    titles = ("RGB", "ground truth", "probability", f"prediction (p ≥ {threshold:.2f})")
    for ax, title in zip(axes[0], titles, strict=True):
        ax.set_title(title)
    if shown is not None:
        fig.colorbar(shown, ax=axes[:, 2].tolist(), shrink=0.6, label="landslide probability")
    return fig


def draw_model_comparison(
    groups: Sequence[str], models: Sequence[str], scores: dict[str, np.ndarray], path: Path
) -> Path:
    """Grouped bars: for each metric in ``scores`` (e.g. F1, IoU) a panel with one group of
    bars per ``groups`` entry (dataset / band set) and one bar per model.

    ``scores[metric]`` has shape (len(groups), len(models)); NaN marks a missing run.
    """
    fig, axes = plt.subplots(
        1, len(scores), figsize=(5 + 2.2 * len(groups), 3.8), squeeze=False, layout="constrained"
    )
    x = np.arange(len(groups))
    width = 0.8 / max(len(models), 1)
    for ax, (metric, values) in zip(axes[0], scores.items(), strict=True):
        for j, model in enumerate(models):
            ax.bar(x + (j - (len(models) - 1) / 2) * width, np.nan_to_num(values[:, j]), width,
                   label=model)  # fmt: skip
        ax.set_xticks(x, list(groups), fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper right")
    return save_figure(fig, path)
