"""Synthetic Sentinel-2 scenes of one mountain area: raw digital numbers per band. SYNTHETIC.

Each :class:`SyntheticScene` holds raw digital numbers on a 10 m grid (the numbers of the
old baselines, without the offset); :func:`area_bands` makes plausible bands of the area of
:mod:`slidewatch.synthetic.area`; :func:`scene_arrays` gives each band as a catalogue writes
it (+1000 from processing baseline 04.00, clouds painted bright, SCL 9 under them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from slidewatch.acquisition.offset import baseline_has_offset
from slidewatch.synthetic.area import CRS, ORIGIN

NATIVE_M: dict[str, int] = {
    "B1": 60,
    "B2": 10,
    "B3": 10,
    "B4": 10,
    "B5": 20,
    "B6": 20,
    "B7": 20,
    "B8": 10,
    "B8A": 20,
    "B9": 60,
    "B10": 60,
    "B11": 20,
    "B12": 20,
    "SCL": 20,
}
S2_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
CLOUD_DN: dict[str, float] = {b: 7000.0 for b in S2_BANDS} | {"B10": 900.0, "B9": 2500.0}
"""Raw digital numbers of a thick cloud (bright everywhere, high cirrus band)."""
SCL_VEGETATION, SCL_CLOUD_HIGH = 4, 9


@dataclass(frozen=True)
class SyntheticScene:
    """One Sentinel-2 scene to write (all arrays H×W on the 10 m grid at ``origin``)."""

    id: str
    datetime: datetime
    bands: Mapping[str, np.ndarray]
    """Raw digital numbers without the baseline-04.00 offset, per band (B1…B12, B8A; SCL
    optional, else vegetation). H and W must be multiples of 6 (the 60 m bands)."""
    tile: str = "18LTP"
    processing_baseline: str | None = None
    """Default: ``05.09`` from 2022-01-25, ``03.01`` before."""
    cloud: np.ndarray | None = None
    """Bool H×W: pixels painted as thick cloud (and SCL 9)."""
    cloud_cover: float | None = None
    """``eo:cloud_cover``; default: the cloud fraction in %."""
    processed: str = ""
    """``s2:generation_time`` (orders re-processed duplicates)."""
    origin: tuple[float, float] = ORIGIN
    crs: str = CRS
    relative_orbit: int | None = None
    """``sat:relative_orbit`` (with ``platform``, the pass); None: not stated."""

    @property
    def baseline(self) -> str:
        if self.processing_baseline:
            return self.processing_baseline
        return "05.09" if self.datetime.date() >= datetime(2022, 1, 25).date() else "03.01"


def area_bands(
    height: int = 120, width: int = 120, seed: int = 0, scars: np.ndarray | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``(bands raw DN, dem metres, scars bool)`` of a synthetic mountain area; ``scars``
    replaces the generated landslide scars when given (e.g. to add a new one)."""
    from slidewatch.synthetic.area import landslide_mask, raw_bands, slope_degrees, terrain

    rng = np.random.default_rng(seed)
    dem, river_px = terrain(rng, (height, width))
    if scars is None:
        scars = landslide_mask(rng, dem, slope_degrees(dem), river_px, 0.03)
    s2 = raw_bands(np.random.default_rng(seed + 1), dem, river_px, scars)
    names = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12")
    bands = {name: s2[i] for i, name in enumerate(names)}
    bands["B8A"] = 0.5 * (bands["B8"] + bands["B7"])  # between its neighbours' wavelengths
    return bands, dem, scars


def downsample(array: np.ndarray, factor: int, categorical: bool) -> np.ndarray:
    if factor == 1:
        return array
    h, w = array.shape
    if h % factor or w % factor:
        raise ValueError(f"scene size {h}×{w} must be a multiple of {factor} (native bands)")
    if categorical:
        return array[factor // 2 :: factor, factor // 2 :: factor]
    return array.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def scene_arrays(scene: SyntheticScene) -> dict[str, np.ndarray]:
    """Band → array as written (offset added, cloud painted), on the 10 m grid."""
    offset = 1000.0 if baseline_has_offset(scene.baseline) else 0.0
    some = next(iter(scene.bands.values()))
    out: dict[str, np.ndarray] = {}
    for band in S2_BANDS:
        dn = np.asarray(scene.bands[band], dtype=np.float64).copy()
        if scene.cloud is not None:
            dn[scene.cloud] = CLOUD_DN[band]
        out[band] = dn + offset
    scl = scene.bands.get("SCL")
    scl = np.full(some.shape, SCL_VEGETATION, np.uint8) if scl is None else np.array(scl, np.uint8)
    if scene.cloud is not None:
        scl[scene.cloud] = SCL_CLOUD_HIGH
    out["SCL"] = scl
    return out
