"""A fetched stack has a picture: ``NAME.png`` beside it — true colour, unseen ground grey,
outside the AOI white, the scene ids and dates in the title, a scale bar — and ``fetch
pair`` draws pre and post side by side."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import rasterio
from PIL import Image

from slidewatch.acquisition.clouds import CLEAR, CLOUD, OUTSIDE
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.pair import fetch_pair
from slidewatch.acquisition.quicklook import draw_stack_picture
from slidewatch.acquisition.stack import fetch_stack

from .conftest import Catalogue, aoi_from_utm

GREY = 127.5  # 0.5 × 255: what slidewatch.rgb draws for invalid pixels


def config(cat: Catalogue) -> StacConfig:
    return StacConfig(stac_url=str(cat.path))


def _png_pixel(fig: object, stack: Path, row: int, col: int) -> tuple[int, int]:
    """(png row, png col) where stack pixel (row, col)'s centre is drawn in ``fig``."""
    with rasterio.open(stack) as ds:
        x, y = ds.xy(row, col)
    ax = fig.axes[0]  # type: ignore[attr-defined]
    dx, dy = ax.transData.transform((x, y))
    height = fig.get_size_inches()[1] * fig.dpi  # type: ignore[attr-defined]
    return round(height - dy), round(dx)


@pytest.fixture(scope="module")
def cloudy(catalogue: Catalogue, aoi_t1, tmp_path_factory: pytest.TempPathFactory) -> object:
    out = tmp_path_factory.mktemp("pic") / "cloudy.tif"
    return fetch_stack(config(catalogue), aoi_t1, date(2023, 6, 10), date(2023, 6, 12), out)


def test_the_picture_is_written_beside_the_stack(cloudy) -> None:
    png = cloudy.picture_path
    assert png == cloudy.path.with_suffix(".png")
    assert png.stat().st_size > 10_000
    image = Image.open(png)
    assert min(image.size) >= 520  # a 40 px stack drawn large enough to read
    title = image.text["Title"]
    assert "2023-06-11: C_cloudy" in title and "75.0% of the AOI seen" in title
    item = json.loads(cloudy.item_path.read_text())
    assert item["assets"]["picture"] == {
        "href": "cloudy.png", "type": "image/png", "roles": ["overview"]
    }  # fmt: skip


def test_unseen_pixels_are_grey_and_seen_ones_are_not(cloudy) -> None:
    with rasterio.open(cloudy.mask_path) as ms:
        mask = ms.read(1)
    cloud = np.argwhere(mask == CLOUD)
    clear = np.argwhere(mask == CLEAR)
    assert len(cloud) and len(clear)
    fig, _ = draw_stack_picture(
        cloudy.path, cloudy.mask_path, [("2023-06-11", ("C_cloudy",))], cloudy.clear_fraction,
        name="cloudy",
    )  # fmt: skip
    try:
        assert "2023-06-11: C_cloudy" in fig._suptitle.get_text() + fig.axes[0].get_title("left")
        texts = [t.get_text() for a in fig.axes[0].artists for t in a.findobj(plt.Text)]
        assert any(t.endswith(" m") for t in texts)  # the scale bar
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert legend == ["not seen (cloud, shadow, no data)"]
        png = np.asarray(Image.open(cloudy.picture_path).convert("RGB")).astype(float)
        for row, col in cloud[:: max(1, len(cloud) // 25)]:
            np.testing.assert_allclose(png[_png_pixel(fig, cloudy.path, row, col)], GREY, atol=1)
        seen = [png[_png_pixel(fig, cloudy.path, r, c)] for r, c in clear[:: len(clear) // 25]]
        assert not any(np.allclose(p, GREY, atol=1) for p in seen)
    finally:
        plt.close(fig)


def test_outside_the_aoi_is_white(catalogue: Catalogue, tmp_path: Path) -> None:
    from shapely.geometry import Polygon

    from slidewatch.acquisition.aoi import validate_aoi

    x0, y0, x1, y1 = aoi_from_utm(100, 100, 500, 500).geometry.bounds
    triangle = validate_aoi(Polygon([(x0, y0), (x1, y0), (x0, y1)]))
    day = date(2021, 6, 1)
    result = fetch_stack(config(catalogue), triangle, day, day, tmp_path / "t.tif", bands="B4")
    with rasterio.open(result.mask_path) as ms:
        outside = np.argwhere(ms.read(1) == OUTSIDE)
    fig, _ = draw_stack_picture(result.path, result.mask_path, [("2021-06-01", ("A_2021",))],
                                result.clear_fraction, name="t")  # fmt: skip
    try:
        png = np.asarray(Image.open(result.picture_path).convert("RGB"))
        row, col = outside[len(outside) // 2]
        assert (png[_png_pixel(fig, result.path, row, col)] == 255).all()
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "outside the AOI" in legend
    finally:
        plt.close(fig)


def test_fetch_pair_draws_pre_and_post_side_by_side(
    catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    result = fetch_pair(config(catalogue), aoi_t1, date(2023, 6, 5), 10, tmp_path)
    assert (tmp_path / "pre.png").exists() and (tmp_path / "post.png").exists()
    assert result.picture_path == tmp_path / "pair.png"
    image = Image.open(result.picture_path)
    title = image.text["Title"]
    assert "event 2023-06-05" in title
    assert "pre-event: 2023-06-01" in title and "B_2023" in title
    assert "post-event: 2023-06-11" in title and "C_cloudy" in title
    assert image.size[0] > 1.8 * image.size[1] * 0.8  # two maps side by side
    assert "B_2023" in Image.open(tmp_path / "pre.png").text["Title"]


def test_a_look_draws_no_picture(catalogue: Catalogue, aoi_t1, tmp_path: Path) -> None:
    """Monitoring archives an RGB product of its own: its fetch skips the half second a
    picture costs, and the stack's item names no picture."""
    out = tmp_path / "look.tif"
    result = fetch_stack(
        config(catalogue), aoi_t1, date(2023, 6, 10), date(2023, 6, 12), out, picture=False
    )
    assert result.picture_path is None and not out.with_suffix(".png").exists()
    assert "picture" not in json.loads(result.item_path.read_text())["assets"]
