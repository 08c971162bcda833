"""What a labeller looks at: band combinations of a patch, each an H×W×3 image in [0, 1].

Pure numpy. A combination needs certain bands; :func:`available_combinations` offers only
those a patch can make (a 4-band B2,B3,B4,B8 patch has no SWIR, slope or hillshade).
Colour composites and the slope view are stretched between two percentiles (adjustable)
computed on the patch's own pixels, also when a larger view around it (its scene context) is
drawn, so the patch looks the same with or without context. NDVI is shown on a fixed scale
(−0.1 brown … 0.8 green) because its values mean something on their own; the hillshade is
an illumination in [0, 1].
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slidewatch.bands import BANDS
from slidewatch.errors import unknown_name
from slidewatch.rgb import percentile_limits, stretch_between

DEFAULT_LOW_PERCENT = 2.0
DEFAULT_HIGH_PERCENT = 98.0
NDVI_RANGE = (-0.1, 0.8)
"""NDVI drawn brown at the first value and green at the second (clipped outside)."""
PIXEL_M = 10.0
"""Ground size of an L4S pixel (Sentinel-2's 10 m grid, DEM resampled to it)."""
SUN_AZIMUTH_DEG = 315.0
SUN_ALTITUDE_DEG = 45.0
"""Hillshade light from the north-west, 45° above the horizon (the cartographic convention)."""

_SCALE = {b.name: b.scale for b in BANDS}


@dataclass(frozen=True)
class Combination:
    """One way to draw a patch."""

    name: str
    """URL-safe name, e.g. ``true-colour``."""
    title: str
    """What the page shows, e.g. ``True colour (B4, B3, B2)``."""
    bands: tuple[str, ...]
    """Bands it needs, in the order drawn as red, green, blue (one for grey views)."""
    kind: str
    """``rgb`` (stretched composite), ``grey`` (stretched band), ``ndvi`` or ``hillshade``."""


COMBINATIONS: dict[str, Combination] = {
    c.name: c
    for c in (
        Combination("true-colour", "True colour (B4, B3, B2)", ("B4", "B3", "B2"), "rgb"),
        Combination("false-colour", "False colour (B8, B4, B3)", ("B8", "B4", "B3"), "rgb"),
        Combination("swir", "SWIR (B12, B8, B4)", ("B12", "B8", "B4"), "rgb"),
        Combination("ndvi", "NDVI (B8, B4)", ("B8", "B4"), "ndvi"),
        Combination("slope", "Slope", ("slope",), "grey"),
        Combination("hillshade", "Hillshade of the DEM", ("dem",), "hillshade"),
    )
}
"""Every combination, in the order the page lists them."""


def available_combinations(bands: Sequence[str]) -> list[Combination]:
    """The combinations whose bands are all in ``bands``."""
    have = set(bands)
    return [c for c in COMBINATIONS.values() if have.issuperset(c.bands)]


def combination(name: str, bands: Sequence[str]) -> Combination:
    """The combination ``name`` if ``bands`` can make it; RegistryError listing those it can."""
    offered = {c.name: c for c in available_combinations(bands)}
    if name not in offered:
        raise unknown_name(f"band combination for bands {','.join(bands)}", name, list(offered))
    return offered[name]


def hillshade(dem_m: np.ndarray, pixel_m: float = PIXEL_M) -> np.ndarray:
    """H×W illumination in [0, 1] of an elevation grid in metres (rows run south).

    The usual formula: cos of the angle between the surface normal and the sun
    (:data:`SUN_AZIMUTH_DEG`, :data:`SUN_ALTITUDE_DEG`), faces turned away from it are 0.
    """
    d_row, d_col = np.gradient(dem_m.astype(np.float64), pixel_m)
    # east and north components of the gradient (rows grow southwards)
    dz_east, dz_north = d_col, -d_row
    slope = np.arctan(np.hypot(dz_east, dz_north))
    aspect = np.arctan2(-dz_east, -dz_north)  # downhill direction, clockwise from north
    azimuth = np.radians(SUN_AZIMUTH_DEG)
    altitude = np.radians(SUN_ALTITUDE_DEG)
    shade = np.sin(altitude) * np.cos(slope) + np.cos(altitude) * np.sin(slope) * np.cos(
        azimuth - aspect
    )
    return np.clip(np.nan_to_num(shade), 0.0, 1.0).astype(np.float32)


def ndvi(image: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """H×W NDVI of an H×W×C L4S-scale image (bands turned back to raw values first: L4S
    divides every band by its own constant, so a ratio of L4S values would be biased)."""
    names = list(bands)
    nir = image[..., names.index("B8")] * _SCALE["B8"]
    red = image[..., names.index("B4")] * _SCALE["B4"]
    total = nir + red
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total != 0, (nir - red) / np.where(total != 0, total, 1), 0.0)
    return out.astype(np.float32)


_NDVI_LOW = np.array([0.55, 0.35, 0.15])  # bare soil brown
_NDVI_MID = np.array([0.95, 0.9, 0.55])
_NDVI_HIGH = np.array([0.1, 0.5, 0.1])  # dense vegetation green


def _ndvi_colours(values: np.ndarray) -> np.ndarray:
    t = np.clip((values - NDVI_RANGE[0]) / (NDVI_RANGE[1] - NDVI_RANGE[0]), 0, 1)[..., None]
    lower = _NDVI_LOW + (_NDVI_MID - _NDVI_LOW) * np.clip(2 * t, 0, 1)
    return np.where(t < 0.5, lower, _NDVI_MID + (_NDVI_HIGH - _NDVI_MID) * (2 * t - 1))


def render(
    image: np.ndarray,
    bands: Sequence[str],
    name: str,
    low_percent: float = DEFAULT_LOW_PERCENT,
    high_percent: float = DEFAULT_HIGH_PERCENT,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """H×W×3 float32 in [0, 1]: combination ``name`` of an H×W×C L4S-scale image.

    ``region`` (H×W bool) marks the pixels whose percentiles set the stretch (the patch
    inside a larger context view); all pixels when None. Pixels without data (not finite,
    or 0 in every band, the fill value of build-patches) are left out of the percentiles
    and drawn black.
    """
    combo = combination(name, bands)
    valid = np.isfinite(image).all(axis=-1) & (image != 0).any(axis=-1)
    region = valid if region is None else region & valid
    drawer = _DRAWERS[combo.kind]
    out = drawer(image, list(bands), combo, (low_percent, high_percent), region)
    out[~valid] = 0.0  # no data (NaN, or 0 in every band: build-patches' fill) is black
    return out


def _stretched(
    image: np.ndarray,
    bands: list[str],
    combo: Combination,
    percents: tuple[float, float],
    region: np.ndarray | None,
) -> np.ndarray:
    channels = np.stack([image[..., bands.index(b)] for b in combo.bands]).astype(np.float64)
    limits = percentile_limits(channels, percents[0], percents[1], region)
    out = stretch_between(channels, limits)
    if out.shape[0] == 1:
        out = np.repeat(out, 3, axis=0)
    return np.moveaxis(out, 0, -1)


def _ndvi_view(
    image: np.ndarray,
    bands: list[str],
    combo: Combination,
    percents: tuple[float, float],
    region: np.ndarray | None,
) -> np.ndarray:
    return _ndvi_colours(ndvi(image, bands)).astype(np.float32)


def _hillshade_view(
    image: np.ndarray,
    bands: list[str],
    combo: Combination,
    percents: tuple[float, float],
    region: np.ndarray | None,
) -> np.ndarray:
    dem_m = image[..., bands.index("dem")].astype(np.float64) * _SCALE["dem"]
    return np.repeat(hillshade(dem_m)[..., None], 3, axis=-1)


_DRAWERS: dict[str, Callable[..., np.ndarray]] = {
    "rgb": _stretched,
    "grey": _stretched,
    "ndvi": _ndvi_view,
    "hillshade": _hillshade_view,
}


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 (rounded)."""
    return np.round(np.clip(np.nan_to_num(rgb), 0, 1) * 255).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG file contents of an H×W×3 (or H×W×4) uint8 array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()
