"""A PNG quicklook: the scene in colour, contrast-stretched, with detections in red."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from slidewatch.atomic import atomic_output
from slidewatch.inference.cog import PARTIAL_SUFFIX
from slidewatch.inference.scene import SceneReader
from slidewatch.rgb import colour_bands, stretch_rgb

MAX_SIDE = 1024
"""The quicklook's longer side in pixels (big scenes are decimated)."""


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


def write_quicklook(reader: SceneReader, landslides: Path, path: Path) -> None:
    """Write ``path`` (PNG) from the scene of ``reader`` and the landslide raster."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image, valid = reader.read_overview(MAX_SIDE, colour_bands(reader.scene.bands))
    rgb = stretch_rgb(image, valid)
    overlay = np.zeros((*rgb.shape[:2], 4), dtype=np.float32)
    overlay[decimated_landslides(landslides, rgb.shape[:2])] = (1.0, 0.0, 0.0, 0.85)
    h, w = rgb.shape[:2]
    fig = plt.figure(figsize=(w / 100, h / 100 + 0.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, h / (h + 30)))
    ax.imshow(rgb, interpolation="nearest")
    ax.imshow(overlay, interpolation="nearest")
    ax.set_axis_off()
    names = ",".join(reader.scene.bands[i] for i in colour_bands(reader.scene.bands))
    fig.suptitle(f"slidewatch: detections in red over {names}", fontsize=9, y=0.995)
    try:
        with atomic_output(path, PARTIAL_SUFFIX) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
