"""A synthetic but plausible mountain area with landslides, for the demo and for tests.

Terrain is fractal noise (power spectrum ~ 1/f^β) in metres with a river valley carved
along a meandering line; slope (degrees) comes from :func:`numpy.gradient`. Land cover
mixes vegetation (high NIR, low red), bare high ground and the river's water. Landslide
scars are elongated bare-soil blobs (bright in the visible and SWIR, lower NIR) that start
on the steepest slopes and run downslope. Raw values (Sentinel-2 digital numbers, degrees,
metres) are converted with :func:`slidewatch.bands.raw_to_l4s`, so the scene is in the L4S
scale like the benchmark's patches. It is written as a 14-band float32 GeoTIFF in UTM 18S
(EPSG:32718, 10 m pixels, in the Cordillera Blanca of the Peruvian Andes) and a uint8
label GeoTIFF (1 = landslide).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from slidewatch.atomic import atomic_output
from slidewatch.bands import BAND_NAMES, raw_to_l4s

if TYPE_CHECKING:
    from slidewatch.data.build import BuildResult

CRS = "EPSG:32718"
"""UTM zone 18S."""
ORIGIN = (215_000.0, 8_960_000.0)
"""Top-left corner (easting, northing): near Huaraz, Cordillera Blanca, Peru."""
PIXEL_M = 10.0
RIVER_HALFWIDTH_PX = 4.0
MEDIAN_RELIEF_SLOPE_DEG = 22.0
"""Median slope of the fractal relief before the valley is carved."""

SPECTRA: dict[str, tuple[float, ...]] = {
    # B1    B2    B3    B4    B5    B6    B7    B8    B9   B10  B11   B12
    "vegetation": (1100, 600, 760, 420, 900, 1900, 2300, 2800, 800, 9, 1300, 550),
    "bare": (1200, 900, 1000, 1100, 1400, 1700, 1900, 2000, 700, 9, 2200, 1700),
    "soil": (1300, 1250, 1450, 1650, 1850, 1950, 2000, 1900, 700, 10, 2900, 2400),
    "water": (1150, 900, 800, 600, 550, 500, 480, 450, 300, 8, 250, 180),
}  # fmt: skip
"""Raw Sentinel-2 digital numbers (B1-B12, no B8A) of each land cover, L1C-like."""


@dataclass(frozen=True)
class SyntheticArea:
    """The files of a synthetic area and what is known about them."""

    scene: Path
    """14-band float32 GeoTIFF in L4S scale, band descriptions ``B1``..``dem``."""
    labels: Path
    """uint8 GeoTIFF on the same grid, 1 = landslide."""
    bands: tuple[str, ...]
    """Band names of ``scene`` in order (the 14 L4S bands)."""
    landslide_fraction: float
    """Fraction of landslide pixels in ``labels``."""
    crs: str
    """CRS of both files."""
    shape: tuple[int, int]
    """``(height, width)`` in pixels."""


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Zero-mean, unit-std noise with power spectrum ~ 1/f^beta (larger beta: smoother)."""
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0
    spectrum = np.fft.rfft2(rng.standard_normal(shape)) * f ** (-beta / 2)
    spectrum[0, 0] = 0.0
    field = np.fft.irfft2(spectrum, s=shape)
    return (field / field.std()).astype(np.float32)


def terrain(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(dem metres, river distance px)``: fractal relief with a V-shaped river valley."""
    h, w = shape
    relief = fractal_noise(rng, shape, beta=3.6)
    # Scale the relief by its gradient, not its range, so slopes do not depend on the size.
    gy, gx = np.gradient(relief)
    metres = math.tan(math.radians(MEDIAN_RELIEF_SLOPE_DEG)) * PIXEL_M / np.median(np.hypot(gx, gy))
    dem = 3600.0 + metres * relief
    rows = np.arange(h)[:, None]
    phase = rng.uniform(0, 2 * math.pi, size=2)
    t = 2 * math.pi * rows[:, 0] / max(h, 1)
    river_x = w * (0.5 + 0.12 * np.sin(t + phase[0]) + 0.04 * np.sin(3.3 * t + phase[1]))
    distance = np.abs(np.arange(w)[None, :] - river_x[:, None]).astype(np.float32)
    valley_halfwidth = 0.35 * w
    dem -= 700.0 * np.clip(1.0 - distance / valley_halfwidth, 0.0, None) ** 1.3
    dem += 250.0 * (rows / max(h, 1))  # the valley falls gently toward the top (north)
    return dem.astype(np.float32), distance


def slope_degrees(dem: np.ndarray, pixel_m: float = PIXEL_M) -> np.ndarray:
    """Slope in degrees of a DEM in metres (pixels ``pixel_m`` wide)."""
    gy, gx = np.gradient(dem.astype(np.float64), pixel_m)
    return np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)


def landslide_mask(
    rng: np.random.Generator, dem: np.ndarray, slope: np.ndarray, river_px: np.ndarray,
    target_fraction: float,
) -> np.ndarray:  # fmt: skip
    """Elongated downslope blobs seeded on the steepest 15% of slopes, until the target."""
    h, w = dem.shape
    grads = np.gradient(dem.astype(np.float64))
    grad_rows, grad_cols = np.asarray(grads[0]), np.asarray(grads[1])
    mask = np.zeros((h, w), dtype=bool)
    steep = (slope >= np.percentile(slope, 85)) & (river_px > 10)
    min_slope = np.percentile(slope, 70)  # the whole scar, not only its crown, is steep
    seeds = np.flatnonzero(steep)
    rng.shuffle(seeds)
    goal, covered = target_fraction * h * w, 0
    for seed in seeds:
        if covered >= goal:
            break
        r, c = divmod(int(seed), w)
        dr, dc = float(grad_rows[r, c]), float(grad_cols[r, c])
        norm = math.hypot(dr, dc) or 1.0
        down = (-dr / norm, -dc / norm)  # (drow, dcol) downslope
        window, blob = _blob(mask.shape, rng, (r, c), down)
        if blob.any() and slope[window][blob].mean() >= min_slope:
            covered += int((blob & ~mask[window]).sum())
            mask[window] |= blob
    return mask & (river_px >= RIVER_HALFWIDTH_PX)


def _blob(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    start: tuple[int, int],
    down: tuple[float, float],
) -> tuple[tuple[slice, slice], np.ndarray]:
    """One ragged ellipse from ``start`` running ``down``: its window and mask in the window."""
    length, width = rng.uniform(16, 45), rng.uniform(8, 18)
    cr, cc = start[0] + down[0] * length / 2, start[1] + down[1] * length / 2
    half = int(length / 2 + width) + 2
    r0, r1 = max(int(cr) - half, 0), min(int(cr) + half + 1, shape[0])
    c0, c1 = max(int(cc) - half, 0), min(int(cc) + half + 1, shape[1])
    window = (slice(r0, r1), slice(c0, c1))
    if r1 <= r0 or c1 <= c0:
        return window, np.zeros((0, 0), dtype=bool)
    rr, cc_ = np.mgrid[r0:r1, c0:c1]
    dr, dc = rr - cr, cc_ - cc
    along = dr * down[0] + dc * down[1]
    across = -dr * down[1] + dc * down[0]
    # Wider at the toe (deposit) than at the crown (scarp).
    taper = 0.6 + 0.4 * np.clip(along / length + 0.5, 0, 1)
    ragged = 1.0 + 0.25 * rng.standard_normal(along.shape).clip(-2, 2) * 0.5
    inside = (along / (length / 2)) ** 2 + (across / (width / 2 * taper)) ** 2 < ragged
    return window, inside


def hillshade(
    dem: np.ndarray, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Lambertian illumination in [0, 1] of a DEM in metres (sun from the north-west)."""
    gy, gx = np.gradient(dem.astype(np.float64), PIXEL_M)
    slope = np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0).astype(np.float32)


def raw_bands(
    rng: np.random.Generator, dem: np.ndarray, river_px: np.ndarray, scars: np.ndarray
) -> np.ndarray:
    """The 12 Sentinel-2 bands (raw digital numbers, 12×H×W) of the land cover mix."""
    # Vegetation thins out above ~3,700 m (puna grass, rock) and varies in patches.
    green = np.clip(1.1 - (dem - 3700.0) / 700.0 + 0.3 * fractal_noise(rng, dem.shape, 2.4), 0, 1)
    water = river_px < RIVER_HALFWIDTH_PX
    light = 0.45 + 0.8 * hillshade(dem)
    s2 = np.empty((12, *dem.shape), dtype=np.float32)
    for i, band in enumerate(s2):  # band by band keeps the temporaries small
        veg, bare = SPECTRA["vegetation"][i], SPECTRA["bare"][i]
        np.multiply(green, veg - bare, out=band)
        band += bare
        band[scars] = SPECTRA["soil"][i]
        band[water] = SPECTRA["water"][i]
        band *= light
        band *= 0.97 + 0.06 * rng.random(dem.shape, dtype=np.float32)  # ±3 % sensor noise
    return s2


def synthetic_arrays(
    height: int = 1024, width: int = 1024, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(image 14×H×W float32 in L4S scale, labels H×W uint8)`` of a synthetic area."""
    rng = np.random.default_rng(seed)
    dem, river_px = terrain(rng, (height, width))
    slope = slope_degrees(dem)
    target = rng.uniform(0.025, 0.04)
    scars = landslide_mask(rng, dem, slope, river_px, target)
    image = np.empty((len(BAND_NAMES), height, width), dtype=np.float32)
    image[:12] = raw_bands(rng, dem, river_px, scars)
    image[12], image[13] = slope, dem
    for i, name in enumerate(BAND_NAMES):  # band by band: no float64 copy of the whole stack
        image[i] = raw_to_l4s(image[i : i + 1], (name,), axis=0)[0]
    return image, scars.astype(np.uint8)


def _write_tif(path: Path, data: np.ndarray, descriptions: tuple[str, ...] | None) -> None:
    """Write a C×H×W array as a tiled GeoTIFF atomically (temp name, then rename)."""
    import rasterio
    from rasterio.transform import from_origin

    profile = {
        "driver": "GTiff", "dtype": str(data.dtype), "count": data.shape[0],
        "height": data.shape[1], "width": data.shape[2], "crs": CRS,
        "transform": from_origin(*ORIGIN, PIXEL_M, PIXEL_M),
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "zstd", "zstd_level": 1,
        "interleave": "pixel",
    }  # fmt: skip
    with atomic_output(path, suffix=".tif") as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            dst.descriptions = descriptions


def make_synthetic_area(
    out_dir: str | os.PathLike[str], height: int = 1024, width: int = 1024, seed: int = 0
) -> SyntheticArea:
    """Write ``scene.tif`` (14 bands, L4S scale) and ``labels.tif`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image, labels = synthetic_arrays(height, width, seed)
    scene_path, labels_path = out / "scene.tif", out / "labels.tif"
    _write_tif(scene_path, image, BAND_NAMES)
    _write_tif(labels_path, labels[None], ("landslide",))
    return SyntheticArea(
        scene=scene_path, labels=labels_path, bands=BAND_NAMES,
        landslide_fraction=float(labels.mean()), crs=CRS, shape=(height, width),
    )  # fmt: skip


def make_synthetic_patches(
    out_dir: str | os.PathLike[str], n: int = 64, seed: int = 0, size: int = 128
) -> BuildResult:
    """A flat L4S training set of ``n`` labeled patches cut from a synthetic area.

    The area is the smallest grid of ``size`` patches holding ``n``; it is written to a
    temporary folder and cut with :func:`slidewatch.data.build.build_patches`.
    """
    from slidewatch.data.build import build_patches

    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    with tempfile.TemporaryDirectory(prefix="slidewatch-area-") as tmp:
        area = make_synthetic_area(tmp, height=rows * size, width=cols * size, seed=seed)
        return build_patches(
            area.scene, area.labels, out_dir, size=size, scale="none", max_patches=n,
            progress=False,
        )  # fmt: skip
