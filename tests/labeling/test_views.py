"""Band combinations, NDVI, hillshade and the stretch of context views."""

from __future__ import annotations

import numpy as np
import pytest

from slidewatch.bands import BAND_NAMES, L4S_SCALE, RGB
from slidewatch.errors import RegistryError
from slidewatch.labeling.views import (
    available_combinations,
    hillshade,
    ndvi,
    png_bytes,
    render,
    to_uint8,
)


def test_combinations_follow_the_patch_bands() -> None:
    assert [c.name for c in available_combinations(BAND_NAMES)] == [
        "true-colour", "false-colour", "swir", "ndvi", "slope", "hillshade",
    ]  # fmt: skip
    four = [c.name for c in available_combinations(("B2", "B3", "B4", "B8"))]
    assert four == ["true-colour", "false-colour", "ndvi"]
    assert [c.name for c in available_combinations(("slope", "dem"))] == ["slope", "hillshade"]


def test_a_combination_the_patch_cannot_make_is_refused_with_the_valid_ones() -> None:
    image = np.ones((4, 4, 4), dtype=np.float32)
    with pytest.raises(RegistryError, match=r"swir.*true-colour, false-colour, ndvi"):
        render(image, ("B2", "B3", "B4", "B8"), "swir")


def test_true_colour_puts_b4_b3_b2_in_red_green_blue() -> None:
    image = np.zeros((8, 8, 14), dtype=np.float32)
    image[:4, :, BAND_NAMES.index("B4")] = 1.0  # red only in the top half
    image[:, :4, BAND_NAMES.index("B2")] = 1.0  # blue only in the left half
    out = render(image, BAND_NAMES, "true-colour", 0, 100)
    assert out.shape == (8, 8, 3)
    assert out[0, 7].tolist() == [1.0, 0.0, 0.0]
    assert out[7, 0].tolist() == [0.0, 0.0, 1.0]
    assert RGB == ("B4", "B3", "B2")


def test_stretch_limits_come_from_the_region_only() -> None:
    band = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    image = np.repeat(band[..., None], 14, axis=-1)
    region = np.zeros((8, 8), dtype=bool)
    region[:4] = True  # values 0 .. 0.49
    out = render(image, BAND_NAMES, "slope", 0, 100, region)
    assert out[3, 7, 0] == pytest.approx(1.0)
    assert (out[4:] == 1.0).all()  # brighter than the region: clipped


def test_ndvi_uses_raw_values_not_l4s_ratios() -> None:
    bands = ("B4", "B8")
    raw = np.array([[[500.0, 3500.0]]])  # red 500, nir 3500 -> NDVI 0.75
    l4s = raw / np.array([L4S_SCALE[3], L4S_SCALE[7]])
    assert ndvi(l4s, bands)[0, 0] == pytest.approx(0.75, abs=1e-6)


def test_hillshade_lights_north_west_faces() -> None:
    rows, cols = np.mgrid[0:16, 0:16].astype(float)
    facing_nw = (rows + cols) * 5.0  # rises to the south-east: faces north-west
    facing_se = -(rows + cols) * 5.0
    flat = np.zeros((16, 16))
    assert hillshade(facing_nw).mean() > hillshade(flat).mean() > hillshade(facing_se).mean()
    assert hillshade(flat)[5, 5] == pytest.approx(np.sin(np.radians(45)), abs=1e-6)


def test_png_round_trip() -> None:
    from io import BytesIO

    from PIL import Image

    pixels = to_uint8(np.random.default_rng(0).random((5, 7, 3)))
    back = np.asarray(Image.open(BytesIO(png_bytes(pixels))))
    assert (back == pixels).all()


def test_no_data_pixels_are_black_and_left_out_of_the_stretch() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0.5, 1.5, (8, 8, 4)).astype(np.float32)
    image[0] = 0.0  # build-patches' fill
    image[1, :, 2] = np.nan
    bands = ("B2", "B3", "B4", "B8")
    for name in ("true-colour", "ndvi"):
        out = render(image, bands, name, 0, 100)
        assert (out[:2] == 0).all() and (out[2:] > 0).any()
    assert render(image, bands, "true-colour", 0, 100)[2:].max() == pytest.approx(1.0)
