"""The paper's Figure 2: per-band distributions after min-max normalisation, one curve per
source, drawn with matplotlib's Agg backend and written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from slidewatch.atomic import atomic_output
from slidewatch.data.layout import PatchRef
from slidewatch.data.stats import band_distributions


def plot_band_distributions(
    refs: Sequence[PatchRef],
    out: Path,
    bands: str | Sequence[str] = "all14",
    bins: int = 32,
    progress: bool = False,
) -> Path:
    """Draw one subplot per band with one density curve per source; write PNG ``out``."""
    names, edges, dens = band_distributions(refs, bands, bins, progress)
    centers = (edges[:-1] + edges[1:]) / 2
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.2 * cols, 2.4 * rows + 0.6), squeeze=False, layout="constrained"
    )
    for b, ax in enumerate(axes.flat):
        if b >= len(names):
            ax.set_visible(False)
            continue
        for source, d in dens.items():
            ax.plot(centers, d[b], label=source, linewidth=1.4)
        ax.set_title(names[b], fontsize=10)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("min-max normalised value", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("density", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5))
    fig.suptitle("Band value distributions per source (min-max over all sources)", fontsize=11)
    return save_figure(fig, Path(out))


def save_figure(fig: Figure, out: Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG atomically to ``out``, then close it."""
    try:
        with atomic_output(out, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return out
