"""A PNG quicklook: the scene in colour, contrast-stretched, with detections in red.

It is a small map: axes in the scene's coordinates (lon/lat, or eastings/northings with the
CRS named), a scale bar in metres, a legend (landslide at the threshold, no data), and a
title naming the model, the threshold and the bands shown.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import array_bounds
from rasterio.windows import Window

from slidewatch.atomic import atomic_output
from slidewatch.inference.cog import PARTIAL_SUFFIX
from slidewatch.inference.scene import SceneReader
from slidewatch.rgb import INVALID_GREY, colour_bands, stretch_rgb

MAX_SIDE = 1024
"""The quicklook's longer side in pixels (big scenes are decimated)."""
MIN_FIGURE_PX = 520
"""Small scenes are drawn larger so the legend and the labels fit."""
LANDSLIDE_RGBA = (1.0, 0.0, 0.0, 0.85)


def decimated_landslides(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Bool ``shape`` array: does each decimated cell hold any landslide pixel (value 1)?

    Read one band of cells at a time, so that no speck disappears and memory stays small.
    """
    out = np.zeros(shape, dtype=bool)
    with rasterio.open(path) as ds:
        fy, fx = ds.height // shape[0], ds.width // shape[1]
        for i in range(shape[0]):
            rows = ds.read(1, window=Window(0, i * fy, fx * shape[1], fy))
            out[i] = (rows == 1).reshape(fy, shape[1], fx).any(axis=(0, 2))
    return out


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``limit`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(limit))
    return max(m * power for m in (1.0, 2.0, 5.0) if m * power <= limit)


def metres_per_unit(crs: Any, latitude: float) -> float:
    """Ground metres per x unit of ``crs`` (degrees of longitude at ``latitude``, or metres)."""
    if crs.is_geographic:
        return 111_320.0 * math.cos(math.radians(latitude))
    return float(crs.linear_units_factor[1]) if crs.is_projected else 1.0


def _axis_labels(ax: Any, crs: Any) -> None:
    if crs.is_geographic:
        ax.set_xlabel(f"longitude (°), {crs.to_string()}", fontsize=8)
        ax.set_ylabel("latitude (°)", fontsize=8)
    else:
        ax.set_xlabel(f"easting (m), {crs.to_string()}", fontsize=8)
        ax.set_ylabel("northing (m)", fontsize=8)
        ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=7)


def _scale_bar(ax: Any, crs: Any, bounds: tuple[float, float, float, float]) -> None:
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    west, south, east, north = bounds
    per_unit = metres_per_unit(crs, (south + north) / 2)
    metres = nice_length((east - west) * per_unit / 4)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    bar = AnchoredSizeBar(
        ax.transData, metres / per_unit, label, "lower right", pad=0.4, color="black",
        frameon=True, size_vertical=(north - south) / 150, fontproperties={"size": 8},
    )  # fmt: skip
    bar.patch.set_alpha(0.8)
    ax.add_artist(bar)


def _legend(ax: Any, threshold: float | None, has_nodata: bool) -> None:
    from matplotlib.patches import Patch

    rule = f"p ≥ {threshold:.2f}" if threshold is not None else "model's threshold"
    handles = [Patch(color=LANDSLIDE_RGBA, label=f"landslide ({rule})")]
    if has_nodata:
        handles.append(Patch(color=(INVALID_GREY,) * 3, label="no data"))
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)


def _map_figure(plt: Any, height: int, width: int) -> tuple[Any, Any]:
    """A figure whose axes show ``height`` × ``width`` pixels unscaled (small ones enlarged),
    with margins for the tick labels and the title."""
    zoom = max(1.0, MIN_FIGURE_PX / max(height, width))
    map_w, map_h = width * zoom / 100, height * zoom / 100  # inches at 100 dpi
    fig_w, fig_h = map_w + 1.3, map_h + 1.1
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=100)
    ax = fig.add_axes((1.0 / fig_w, 0.75 / fig_h, map_w / fig_w, map_h / fig_h))
    return fig, ax


def draw_quicklook(
    reader: SceneReader,
    landslides: Path,
    *,
    threshold: float | None = None,
    model_name: str | None = None,
) -> Any:
    """The quicklook as a matplotlib figure (close it after use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scene = reader.scene
    image, valid = reader.read_overview(MAX_SIDE, colour_bands(scene.bands))
    rgb = stretch_rgb(image, valid)
    overlay = np.zeros((*rgb.shape[:2], 4), dtype=np.float32)
    overlay[decimated_landslides(landslides, rgb.shape[:2])] = LANDSLIDE_RGBA
    west, south, east, north = array_bounds(scene.height, scene.width, scene.transform)
    extent = (west, east, south, north)
    fig, ax = _map_figure(plt, *rgb.shape[:2])
    ax.imshow(rgb, interpolation="nearest", extent=extent)
    ax.imshow(overlay, interpolation="nearest", extent=extent)
    _axis_labels(ax, scene.crs)
    _scale_bar(ax, scene.crs, (west, south, east, north))
    _legend(ax, threshold, not bool(valid.all()))
    names = ",".join(scene.bands[i] for i in colour_bands(scene.bands))
    model = f"model {model_name}, " if model_name else ""
    rule = f"threshold {threshold:.2f}, " if threshold is not None else ""
    fig.suptitle(f"slidewatch: {model}{rule}detections in red over {names}", fontsize=9, y=0.995)
    return fig


def write_quicklook(
    reader: SceneReader,
    landslides: Path,
    path: Path,
    *,
    threshold: float | None = None,
    model_name: str | None = None,
) -> None:
    """Write ``path`` (PNG) from the scene of ``reader`` and the landslide raster."""
    import matplotlib.pyplot as plt

    fig = draw_quicklook(reader, landslides, threshold=threshold, model_name=model_name)
    try:
        with atomic_output(path, PARTIAL_SUFFIX) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
