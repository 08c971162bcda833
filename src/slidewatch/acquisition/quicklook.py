"""A fetched stack's picture: ``NAME.png`` beside ``NAME.tif``, as ``detect`` writes its
quicklook.

True colour (B4, B3, B2, or the first three bands) through the project's one stretch
(:mod:`slidewatch.rgb`: percentiles of the clear pixels), ground the stack does not see
(cloud, shadow, cirrus, no data) mid-grey, outside the AOI white; axes in the stack's UTM
coordinates and a scale bar (:mod:`slidewatch.mapfigure`); the title names the scene ids
and dates of every acquisition and how much of the AOI is seen. The title is also in the
PNG's ``Title`` text chunk. ``fetch pair`` also draws ``pair.png``: pre and post side by
side, stretched alike so that a change of colour is a change on the ground.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.acquisition.clouds import CLEAR, OUTSIDE
from slidewatch.bands import band_from_description
from slidewatch.mapfigure import axis_labels, map_figure, scale_bar
from slidewatch.rgb import INVALID_GREY, colour_bands, stretch_rgb

MAX_SIDE = 1024
"""The picture's longer side in pixels (big stacks are decimated, nearest)."""
OUTSIDE_RGB = (1.0, 1.0, 1.0)
MAX_ACQUISITION_LINES = 5
"""Acquisitions named one a line in the title; more are counted."""


@dataclass(frozen=True)
class StackView:
    """A stack's colour bands and mask classes, decimated to fit :data:`MAX_SIDE`."""

    image: np.ndarray
    """3×H×W float (L4S scale; NaN where not seen)."""
    classes: np.ndarray
    """H×W uint8 mask classes (:data:`~slidewatch.acquisition.clouds.MASK_CLASSES`)."""
    bounds: tuple[float, float, float, float]
    crs: Any
    bands: tuple[str, ...]
    """The names of the three bands shown."""

    @property
    def seen(self) -> np.ndarray:
        return (self.classes == CLEAR) & np.isfinite(self.image).all(axis=0)


def read_view(stack: Path, mask: Path, max_side: int = MAX_SIDE) -> StackView:
    """The decimated colour bands and mask of a stack (and its ``mask`` raster)."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(stack) as ds:
        names = tuple(d or f"band {i}" for i, d in enumerate(ds.descriptions, start=1))
        picked = colour_bands([band_from_description(n) for n in names], three=True)
        step = max(1, math.ceil(max(ds.height, ds.width) / max_side))
        shape = (math.ceil(ds.height / step), math.ceil(ds.width / step))
        image = ds.read(
            [i + 1 for i in picked], out_shape=(len(picked), *shape), resampling=Resampling.nearest
        )
        bounds, crs = tuple(ds.bounds), ds.crs
    with rasterio.open(mask) as ms:
        classes = ms.read(1, out_shape=shape, resampling=Resampling.nearest)
    bands = tuple(names[i] for i in picked)
    return StackView(image.astype(np.float64), classes, bounds, crs, bands)


def colour(views: Sequence[StackView]) -> list[np.ndarray]:
    """Each view as H×W×3 in [0, 1]: the one stretch (:func:`slidewatch.rgb.stretch_rgb`)
    over the seen pixels of all ``views`` together (one stack, or a pair stretched alike),
    unseen ground grey, outside the AOI white."""
    widths = np.cumsum([v.image.shape[2] for v in views])[:-1]
    image = np.concatenate([v.image for v in views], axis=2)
    seen = np.concatenate([v.seen for v in views], axis=1)
    out = np.split(stretch_rgb(image, seen), widths, axis=1)
    for view, rgb in zip(views, out, strict=True):
        rgb[view.classes == OUTSIDE] = OUTSIDE_RGB
    return out


def acquisition_lines(acquisitions: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """``date: id, id`` per acquisition, at most :data:`MAX_ACQUISITION_LINES` lines."""
    lines = [f"{when}: {', '.join(ids)}" for when, ids in acquisitions]
    if len(lines) > MAX_ACQUISITION_LINES:
        more = len(lines) - MAX_ACQUISITION_LINES + 1
        lines = [*lines[: MAX_ACQUISITION_LINES - 1], f"… and {more} more acquisitions"]
    return lines


def _legend(ax: Any, views: Sequence[StackView]) -> None:
    from matplotlib.patches import Patch

    handles = []
    if any(((~v.seen) & (v.classes != OUTSIDE)).any() for v in views):
        handles.append(Patch(color=(INVALID_GREY,) * 3, label="not seen (cloud, shadow, no data)"))
    if any((v.classes == OUTSIDE).any() for v in views):
        handles.append(Patch(facecolor=OUTSIDE_RGB, edgecolor="0.3", label="outside the AOI"))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.85)


def draw_panels(views: Sequence[StackView], titles: Sequence[str], suptitle: str) -> Any:
    """A figure of ``views`` side by side (stretched alike), each under its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pictures = colour(views)
    height, width = views[0].classes.shape
    lines = max(t.count("\n") + 1 for t in titles) + suptitle.count("\n") + 1
    fig, axes = map_figure(plt, height, width, panels=len(views), title_lines=lines)
    for ax, view, rgb, title in zip(axes, views, pictures, titles, strict=True):
        west, south, east, north = view.bounds
        ax.imshow(rgb, interpolation="nearest", extent=(west, east, south, north))
        axis_labels(ax, view.crs)
        scale_bar(ax, view.crs, view.bounds)
        ax.set_title(title, fontsize=8, loc="left")
    _legend(axes[-1], views)
    fig.suptitle(suptitle, fontsize=9, y=0.995)
    return fig


def save_picture(fig: Any, path: Path, title: str) -> Path:
    """Write ``fig`` as ``path`` (PNG) with ``title`` in its ``Title`` text chunk; close the
    figure. Callers write to a temporary name (:func:`slidewatch.atomic.atomic_output`)."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, format="png", metadata={"Title": title, "Software": "slidewatch"})
    finally:
        plt.close(fig)
    return path


def draw_stack_picture(
    stack: Path,
    mask: Path,
    acquisitions: Sequence[tuple[str, Sequence[str]]],
    clear_fraction: float,
    name: str | None = None,
) -> tuple[Any, str]:
    """(figure, title) of ``stack`` (``acquisitions``: (date, scene ids) each)."""
    view = read_view(stack, mask)
    head = (
        f"slidewatch fetch: {name or Path(stack).stem}, true colour "
        f"({','.join(view.bands)}), {100 * clear_fraction:.1f}% of the AOI seen"
    )
    body = "\n".join(acquisition_lines(acquisitions))
    return draw_panels([view], [body], head), f"{head}\n{body}"


def write_stack_picture(
    stack: Path,
    mask: Path,
    path: Path,
    acquisitions: Sequence[tuple[str, Sequence[str]]],
    clear_fraction: float,
    name: str | None = None,
) -> Path:
    """Write the picture of ``stack`` at ``path`` (see :func:`draw_stack_picture`)."""
    fig, title = draw_stack_picture(stack, mask, acquisitions, clear_fraction, name)
    return save_picture(fig, path, title)
