"""The Landslide4Sense band catalogue: names, order, resolution and scaling.

L4S patches hold 14 bands in this order: Sentinel-2 B1-B12 (no B8A), then ALOS PALSAR
slope (degrees) and DEM (metres). The benchmark's files are *not* reflectance: each
band's raw value was divided by a fixed constant. The dataset authors published the
vector in the benchmark's issue tracker (iarai/Landslide4Sense-2022); it is reproduced in
:data:`L4S_SCALE` and converts both ways with :func:`raw_to_l4s` / :func:`l4s_to_raw`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    "l2a": tuple(b for b in BAND_NAMES if b != "B10"),
}
"""Named band sets: the paper's two (``all14``, ``six10m``), two convenience sets, and
``l2a`` (all14 without B10: Sentinel-2 L2A products have no cirrus band, so a model for
stacks fetched from an L2A collection is trained on these 13)."""

RGB: tuple[str, str, str] = ("B4", "B3", "B2")

DESCRIPTION_ALIASES: dict[str, str] = {
    "coastal": "B1", "aerosol": "B1", "coastalaerosol": "B1", "blue": "B2", "green": "B3",
    "red": "B4", "rededge1": "B5", "re1": "B5", "rededge2": "B6", "re2": "B6",
    "rededge3": "B7", "re3": "B7", "nir": "B8", "nearinfrared": "B8", "watervapour": "B9",
    "watervapor": "B9", "cirrus": "B10", "swir1": "B11", "swir16": "B11", "swir2": "B12",
    "swir22": "B12", "slope": "slope", "dem": "dem", "elevation": "dem", "height": "dem",
}  # fmt: skip
"""Band descriptions recognised as band names besides ``B4``/``B04``, as lower-case letters
and digits only ("Near Infrared" and "near-infrared" are both ``nearinfrared``). Every band
option accepts them too (``--band-order red,green,blue,nir``)."""

COMMON_NAMES: tuple[str, ...] = (
    "coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
    "watervapour", "cirrus", "swir1", "swir2", "slope", "elevation",
)  # fmt: skip
"""The aliases an error message lists (one per band)."""

SCALES: tuple[str, ...] = ("l4s", "none")
"""How scene values are read: ``l4s`` divides raw values by the L4S vector (:func:`raw_to_l4s`),
``none`` keeps them as they are."""

RAW_MEDIAN = 20.0
"""A Sentinel-2 band whose median exceeds this holds raw digital numbers: L4S-scale medians
are about 0.5-2 (3 at most), raw values hundreds to thousands. B10 is not judged: its L4S
divisor is small (9.05), so its L4S values reach 50 in real files."""
RAW_JUDGED_BANDS: tuple[str, ...] = tuple(b for b in BAND_NAMES[:12] if b != "B10")
"""The Sentinel-2 bands whose medians :func:`looks_raw` compares with :data:`RAW_MEDIAN`."""
TERRAIN_L4S_MAX: dict[str, float] = {"slope": 4.5, "dem": 10.0}
"""Largest plausible L4S values of the terrain bands (90° slope is 4.43, 7,700 m is 10)."""


def canonical_name(name: str) -> str:
    """Return the catalogue spelling of a band name, or raise BandError.

    Case-insensitive; also accepts zero-padded numbers (``B04``) and the common names of
    :data:`DESCRIPTION_ALIASES` (``red``, ``nir``, ``swir1``, ``elevation``...).

    >>> canonical_name("b04"), canonical_name("NIR"), canonical_name("swir2")
    ('B4', 'B8', 'B12')
    """
    key = name.strip().lower()
    if key in _INDEX:
        return BAND_NAMES[_INDEX[key]]
    alias = _band_number(_compact(key)) or DESCRIPTION_ALIASES.get(_compact(key))
    if alias is not None:
        return alias
    raise BandError(
        f"unknown band {name!r}; valid bands: {', '.join(BAND_NAMES)} (also B01-style "
        f"numbers and the names {', '.join(COMMON_NAMES)}) or a band set: "
        f"{', '.join(BAND_SETS)}"
    )


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


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _band_number(token: str) -> str | None:
    """``B4`` for a token that is exactly a band number (``b4``, ``b04``), else None."""
    number = re.fullmatch(r"b0*(\d{1,2})", token)
    name = f"B{int(number.group(1))}" if number else None
    return name if name in BAND_NAMES else None


def band_from_description(text: str | None) -> str | None:
    """The band a band description or file-name part names, or None.

    Recognised: a whole description that is a band number or a name of
    :data:`DESCRIPTION_ALIASES` ("B04", "b8", "Red", "Near Infrared", "SWIR 1"), the same
    before a bracket or comma ("B8 (nir)", "nir, 842 nm"), or exactly one such word among
    the words of the text ("S2_B12", "T45QYF_20230101_B04_10m", "dem_30m"). Anything else
    is unknown: "scene_sub12" and "web1" end in digits but name no band, and B8A is no
    L4S band.

    >>> band_from_description("B04"), band_from_description("Red"), band_from_description("x")
    ('B4', 'B4', None)
    >>> band_from_description("S2_B12"), band_from_description("scene_sub12")
    ('B12', None)
    """
    if not text or not text.strip():
        return None
    lowered = text.strip().lower()
    head = re.split(r"[(\[,;:]", lowered)[0]
    for candidate in (_compact(lowered), _compact(head)):
        name = _band_number(candidate) or DESCRIPTION_ALIASES.get(candidate)
        if name is not None:
            return name
    words = [w for w in re.split(r"[^a-z0-9]+", lowered) if w]
    found = {n for w in words if (n := _band_number(w) or DESCRIPTION_ALIASES.get(w))}
    return found.pop() if len(found) == 1 else None


def raw_optical_bands(medians: Mapping[str, float]) -> list[str]:
    """The bands of :data:`RAW_JUDGED_BANDS` whose median is above :data:`RAW_MEDIAN`."""
    return [b for b in RAW_JUDGED_BANDS if b in medians and medians[b] > RAW_MEDIAN]


def looks_raw(medians: Mapping[str, float]) -> bool:
    """Whether per-band medians (band name → median of valid pixels) look like raw values
    (Sentinel-2 digital numbers, degrees, metres) rather than the L4S scale.

    Judged on the Sentinel-2 bands when there are any (see :data:`RAW_MEDIAN`), else on
    slope and elevation (:data:`TERRAIN_L4S_MAX`).

    >>> looks_raw({"B4": 400.0, "B10": 3.0}), looks_raw({"B4": 0.9, "B10": 48.0, "dem": 4.0})
    (True, False)
    """
    if any(b in medians for b in RAW_JUDGED_BANDS):
        return bool(raw_optical_bands(medians))
    return any(medians[b] > limit for b, limit in TERRAIN_L4S_MAX.items() if b in medians)
