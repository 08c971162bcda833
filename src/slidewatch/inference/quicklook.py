"""A PNG quicklook: the scene in colour, contrast-stretched, with detections in red.

It is a small map (:mod:`slidewatch.mapfigure`): axes in the scene's coordinates (lon/lat,
or eastings/northings with the CRS named), a scale bar in metres, a legend (landslide at the
threshold, no data), and a title naming the model, the threshold and the bands shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import array_bounds
from rasterio.windows import Window

from slidewatch.atomic import atomic_output
from slidewatch.inference.cog import PARTIAL_SUFFIX
from slidewatch.mapfigure import MIN_FIGURE_PX as MIN_FIGURE_PX
from slidewatch.mapfigure import axis_labels, map_figure, scale_bar
from slidewatch.mapfigure import metres_per_unit as metres_per_unit
from slidewatch.mapfigure import nice_length as nice_length
from slidewatch.rgb import INVALID_GREY, colour_bands, stretch_rgb
from slidewatch.scene import SceneReader

MAX_SIDE = 1024
"""The quicklook's longer side in pixels (big scenes are decimated)."""
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


def _legend(ax: Any, threshold: float | None, has_nodata: bool) -> None:
    from matplotlib.patches import Patch

    rule = f"p ≥ {threshold:.2f}" if threshold is not None else "model's threshold"
    handles = [Patch(color=LANDSLIDE_RGBA, label=f"landslide ({rule})")]
    if has_nodata:
        handles.append(Patch(color=(INVALID_GREY,) * 3, label="no data"))
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)


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
    fig, (ax,) = map_figure(plt, *rgb.shape[:2])
    ax.imshow(rgb, interpolation="nearest", extent=extent)
    ax.imshow(overlay, interpolation="nearest", extent=extent)
    axis_labels(ax, scene.crs)
    scale_bar(ax, scene.crs, (west, south, east, north))
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
