"""The Landslide4Sense band catalogue: names, order, resolution and scaling.

L4S patches hold 14 bands in this order: Sentinel-2 B1-B12 (no B8A), then ALOS PALSAR
slope (degrees) and DEM (metres). The benchmark's files are *not* reflectance: each
band's raw value was divided by a fixed constant. The dataset authors published the
vector in the benchmark's issue tracker (iarai/Landslide4Sense-2022); it is reproduced in
:data:`L4S_SCALE` and converts both ways with :func:`raw_to_l4s` / :func:`l4s_to_raw`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from slidewatch.errors import BandError


@dataclass(frozen=True)
class Band:
    """One band of the L4S stack."""

    name: str
    """Name as used everywhere in slidewatch: ``B1``..``B12``, ``slope``, ``dem``."""
    resolution_m: int
    """Native ground resolution of the source product in metres."""
    description: str
    """Human-readable meaning (wavelength or physical quantity)."""
    scale: float
    """L4S divisor: ``l4s_value = raw_value / scale``."""


L4S_SCALE: tuple[float, ...] = (
    1111.81236406, 824.63171476, 663.41636217, 445.17289745, 645.8582926,
    1547.73508126, 1960.44401001, 1941.32229668, 674.07572865, 9.04787384,
    1113.98338755, 519.90397929, 20.29228266, 772.83144788,
)  # fmt: skip
"""Per-band divisors of the L4S benchmark (raw digital number or degrees/metres → L4S)."""

BANDS: tuple[Band, ...] = (
    Band("B1", 60, "coastal aerosol 443 nm", L4S_SCALE[0]),
    Band("B2", 10, "blue 490 nm", L4S_SCALE[1]),
    Band("B3", 10, "green 560 nm", L4S_SCALE[2]),
    Band("B4", 10, "red 665 nm", L4S_SCALE[3]),
    Band("B5", 20, "red edge 705 nm", L4S_SCALE[4]),
    Band("B6", 20, "red edge 740 nm", L4S_SCALE[5]),
    Band("B7", 20, "red edge 783 nm", L4S_SCALE[6]),
    Band("B8", 10, "near infrared 842 nm", L4S_SCALE[7]),
    Band("B9", 60, "water vapour 945 nm", L4S_SCALE[8]),
    Band("B10", 60, "cirrus 1375 nm", L4S_SCALE[9]),
    Band("B11", 20, "short-wave infrared 1610 nm", L4S_SCALE[10]),
    Band("B12", 20, "short-wave infrared 2190 nm", L4S_SCALE[11]),
    Band("slope", 12, "ALOS PALSAR slope, degrees", L4S_SCALE[12]),
    Band("dem", 12, "ALOS PALSAR elevation, metres", L4S_SCALE[13]),
)
"""All 14 bands in the official L4S order."""

BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)
_INDEX = {b.name.lower(): i for i, b in enumerate(BANDS)}

BAND_SETS: dict[str, tuple[str, ...]] = {
    "all14": BAND_NAMES,
    "six10m": ("B2", "B3", "B4", "B8", "slope", "dem"),
    "rgb": ("B4", "B3", "B2"),
    "rgbn": ("B4", "B3", "B2", "B8"),
}
"""Named band sets: the paper's two (``all14``, ``six10m``) and two convenience sets."""

RGB: tuple[str, str, str] = ("B4", "B3", "B2")


def canonical_name(name: str) -> str:
    """Return the catalogue spelling of a band name (case-insensitive), or raise BandError."""
    key = name.strip().lower()
    if key not in _INDEX:
        raise BandError(
            f"unknown band {name!r}; valid bands: {', '.join(BAND_NAMES)} "
            f"(or a band set: {', '.join(BAND_SETS)})"
        )
    return BAND_NAMES[_INDEX[key]]


def resolve_bands(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Turn a band-set name, a comma-separated list or a sequence of names into band names.

    >>> resolve_bands("six10m")
    ('B2', 'B3', 'B4', 'B8', 'slope', 'dem')
    >>> resolve_bands("b4,B3")
    ('B4', 'B3')
    """
    if isinstance(spec, str):
        if spec.strip().lower() in BAND_SETS:
            return BAND_SETS[spec.strip().lower()]
        items = [s for s in spec.split(",") if s.strip()]
    else:
        items = list(spec)
    if not items:
        raise BandError(f"empty band list; use a band set ({', '.join(BAND_SETS)}) or names")
    names = tuple(canonical_name(s) for s in items)
    if len(set(names)) != len(names):
        raise BandError(f"band list {', '.join(names)} repeats a band; name each band once")
    return names


def band_indices(bands: Sequence[str], available: Sequence[str] = BAND_NAMES) -> list[int]:
    """Indices of ``bands`` within ``available`` (both band names), with a clear miss."""
    avail = [canonical_name(a) for a in available]
    out = []
    for b in bands:
        name = canonical_name(b)
        if name not in avail:
            raise BandError(
                f"band {name!r} is not available; this source holds {', '.join(avail)}. "
                "Choose bands from that list."
            )
        out.append(avail.index(name))
    return out


def scale_vector(bands: Sequence[str]) -> np.ndarray:
    """The L4S divisors of ``bands``, as float64 array."""
    return np.array([BANDS[_INDEX[canonical_name(b).lower()]].scale for b in bands])


def raw_to_l4s(raw: np.ndarray, bands: Sequence[str], axis: int = 0) -> np.ndarray:
    """Convert raw values (Sentinel-2 DN, degrees, metres) to the L4S scale along ``axis``."""
    shape = [1] * raw.ndim
    shape[axis] = len(bands)
    return raw / scale_vector(bands).reshape(shape)


def l4s_to_raw(values: np.ndarray, bands: Sequence[str], axis: int = 0) -> np.ndarray:
    """Inverse of :func:`raw_to_l4s`."""
    shape = [1] * values.ndim
    shape[axis] = len(bands)
    return values * scale_vector(bands).reshape(shape)
