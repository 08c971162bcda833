"""The quicklook is a small map: coordinates with the CRS, a scale bar, a legend, the model
and the threshold."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.crs import CRS

from slidewatch.bands import BAND_SETS
from slidewatch.inference.quicklook import (
    MIN_FIGURE_PX,
    draw_quicklook,
    metres_per_unit,
    nice_length,
    write_quicklook,
)
from slidewatch.scene import SceneReader, open_scene

from .conftest import scene_array, write_scene


def test_nice_lengths_and_units() -> None:
    assert [nice_length(x) for x in (0.7, 13, 260, 4_100)] == [0.5, 10, 200, 2_000]
    assert metres_per_unit(CRS.from_epsg(32646), 22.0) == 1.0
    assert metres_per_unit(CRS.from_epsg(4326), 60.0) == pytest.approx(55_660, rel=1e-3)


@pytest.mark.parametrize("crs", ["EPSG:32646", "EPSG:4326"])
def test_quicklook_carries_legend_threshold_model_scale_bar_and_coordinates(
    tmp_path: Path, crs: str
) -> None:
    data = scene_array(80, 120)
    data[:, :, :10] = -9999.0
    scene_path = write_scene(tmp_path / "s.tif", data, nodata=-9999.0, crs=crs)
    if crs == "EPSG:4326":  # 10 m-ish pixels in degrees
        with rasterio.open(scene_path, "r+") as ds:
            ds.transform = rasterio.transform.from_origin(91.8, 22.4, 9e-5, 9e-5)
    classes = np.zeros((80, 120), np.uint8)
    classes[30:40, 50:60] = 1
    with rasterio.open(scene_path) as src:
        profile = {**src.profile, "count": 1, "dtype": "uint8", "nodata": 255}
    with rasterio.open(tmp_path / "c.tif", "w", **profile) as ds:
        ds.write(classes, 1)
    scene = open_scene([scene_path], BAND_SETS["rgbn"], scale="none")
    with SceneReader(scene) as reader:
        fig = draw_quicklook(reader, tmp_path / "c.tif", threshold=0.42, model_name="unet (r/m)")
        write_quicklook(reader, tmp_path / "c.tif", tmp_path / "q.png", threshold=0.42)
    try:
        ax = fig.axes[0]
        assert "model unet (r/m), threshold 0.42" in fig._suptitle.get_text()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["landslide (p ≥ 0.42)", "no data"]
        texts = [t.get_text() for a in ax.artists for t in a.findobj(plt.Text)]
        assert any(t.endswith(" m") or t.endswith(" km") for t in texts)  # the scale bar
        assert crs in ax.get_xlabel()
        west, east = ax.get_xlim()
        with rasterio.open(scene_path) as ds:
            assert (west, east) == pytest.approx((ds.bounds.left, ds.bounds.right))
    finally:
        plt.close(fig)
    with Image.open(tmp_path / "q.png") as png:
        assert png.width >= MIN_FIGURE_PX and png.height >= MIN_FIGURE_PX * 80 / 120
