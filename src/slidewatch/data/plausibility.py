"""Plausibility of an image's values on the L4S scale, band by band (part of ``data check``).

Raw digital numbers, min-max scaling, DEM/slope out of range, slope in radians, DEM and slope
swapped. Thresholds were set on the real benchmark files (see ``../shared``): there the slope
band peaks at 1.7-3.7, the DEM at 0.3-4.9, optical band medians stay < 3 (B10 cirrus up to
50), and the DEM is 5x smoother than the slope.
"""

from __future__ import annotations

import numpy as np

from slidewatch.bands import (
    RAW_JUDGED_BANDS,
    RAW_MEDIAN,
    TERRAIN_L4S_MAX,
    raw_optical_bands,
)

DEM_MAX = TERRAIN_L4S_MAX["dem"]  # 7,700 m
SLOPE_MAX = TERRAIN_L4S_MAX["slope"]  # 90 degrees
SLOPE_RADIANS_MAX = 0.08  # pi/2 rad / 20.29: a slope band this flat is in radians
DEM_RANGE_MIN = 0.05  # ~40 m of relief: enough to expect some slope


def _roughness(band: np.ndarray) -> float:
    # Mean neighbour difference over spread: a DEM is smooth, its slope is not.
    std = float(band.std())
    return float(np.abs(np.diff(band, axis=1)).mean()) / std if std > 0 else 0.0


def band_problems(image: np.ndarray, bands: tuple[str, ...]) -> list[str]:
    """Plausibility problems of an H×W×C L4S-scale image (finite values assumed)."""
    col = {b: image[..., i].astype(np.float64) for i, b in enumerate(bands)}
    return _scaling_problems(col) + _terrain_problems(col)


def _scaling_problems(col: dict[str, np.ndarray]) -> list[str]:
    out = []
    raw = raw_optical_bands({b: float(np.median(col[b])) for b in RAW_JUDGED_BANDS if b in col})
    if raw:
        out.append(
            f"bands {','.join(raw)} have medians > {RAW_MEDIAN:g}: raw digital numbers, "
            "not L4S scale; divide by the L4S scale vector (slidewatch.bands.raw_to_l4s)"
        )
    unit = [b for b, v in col.items() if abs(v.min()) < 1e-6 and abs(v.max() - 1) < 1e-6]
    if len(unit) >= max(2, len(col) // 2):
        out.append(
            f"bands {','.join(unit)} span exactly [0, 1]: the patch looks min-max scaled; "
            "write L4S-scale values and let the model's normalisation do the scaling"
        )
    return out


def _terrain_problems(col: dict[str, np.ndarray]) -> list[str]:
    out = []
    if "dem" in col and float(col["dem"].max()) > DEM_MAX:
        out.append(
            f"dem band reaches {col['dem'].max():.4g} (> {DEM_MAX:g} = 7,700 m): metres "
            "instead of L4S scale? divide by 772.83"
        )
    if "slope" in col and float(col["slope"].max()) > SLOPE_MAX:
        out.append(
            f"slope band reaches {col['slope'].max():.4g} (> {SLOPE_MAX:g} = 90°): degrees "
            "instead of L4S scale? divide by 20.29"
        )
    if "slope" not in col or "dem" not in col:
        return out
    slope, dem = col["slope"], col["dem"]
    if float(slope.max()) < SLOPE_RADIANS_MAX and float(np.ptp(dem)) > DEM_RANGE_MIN:
        out.append(
            f"slope band peaks at {slope.max():.3g} while the DEM varies: slope in "
            "radians? convert to degrees, then divide by 20.29"
        )
    elif _roughness(slope) < _roughness(dem) and min(slope.std(), dem.std()) > 0:
        out.append(
            "the slope band is smoother than the dem band: DEM and slope look "
            "swapped; write slope as band 13 and dem as band 14"
        )
    return out
