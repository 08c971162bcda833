"""Opening a georeferenced scene as the model's band stack, read strip by strip.

A scene is either one raster (GeoTIFF, VRT...) whose bands are matched to the model's bands
by their descriptions (``B4``, ``B04``, ``red``, ``slope``...) or by an explicit
``band_order``; or several single-band files, possibly of different resolutions, each read
through a :class:`rasterio.vrt.WarpedVRT` onto the grid of the finest one.

Scaling: ``scale="l4s"`` divides raw values by the L4S constants
(:func:`slidewatch.bands.raw_to_l4s`); ``scale="none"`` reads values as they are. With
``scale=None`` the scene decides: a metadata tag ``SLIDEWATCH_SCALE`` (or ``scale``) of
``raw``/``l4s`` wins; otherwise the per-band medians of 64 sample windows decide
(:func:`slidewatch.bands.looks_raw`: L4S-scale values are about 0.5-2, raw Sentinel-2
digital numbers are hundreds to thousands).

No data: the same rule as for building patches (:func:`slidewatch.data.scene.valid_pixels`):
a pixel is invalid when any band is masked (nodata value, internal or alpha mask, as
reported by ``read_masks``) or not finite, or, when no file declares a nodata value, 0 in
every band; invalid pixels are filled with 0 before prediction and marked as no data in
every output.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from slidewatch.bands import (
    SCALES,
    band_from_description,
    canonical_name,
    looks_raw,
    resolve_bands,
    scale_vector,
)
from slidewatch.data.scene import check_crs, open_raster, valid_pixels, zeros_are_nodata
from slidewatch.errors import BandError, ConfigError, RasterError


@dataclass(frozen=True)
class Scene:
    """Where each model band of a scene comes from, and the scene's grid."""

    paths: tuple[Path, ...]
    """The input file(s)."""
    bands: tuple[str, ...]
    """Model bands, in the order they are read."""
    sources: tuple[tuple[int, int], ...]
    """Per model band: (index into ``paths``, 1-based band index in that file)."""
    crs: Any
    """The scene's CRS (rasterio CRS) — also that of every output."""
    transform: Any
    """The scene's affine transform (of the finest file for multi-file scenes)."""
    height: int
    """Rows."""
    width: int
    """Columns."""
    to_l4s: bool
    """Whether raw values are divided by the L4S constants on reading."""


def _file_bands(
    paths: Sequence[Path], band_order: Sequence[str] | None
) -> list[tuple[str, int, int]]:
    """(band name, file index, band index) of every band the files hold."""
    found: list[tuple[str | None, int, int]] = []
    for i, path in enumerate(paths):
        with open_raster(path) as ds:
            for b in range(1, ds.count + 1):
                desc = ds.descriptions[b - 1]
                name = band_from_description(desc)
                if name is None and ds.count == 1:
                    name = band_from_description(path.stem.split("_")[-1])
                found.append((name, i, b))
    if band_order is not None:
        names = resolve_bands(band_order)
        if len(names) != len(found):
            raise BandError(
                f"--band-order names {len(names)} bands but the scene holds {len(found)}; "
                "name every band of the scene in order"
            )
        return [(n, i, b) for n, (_, i, b) in zip(names, found, strict=True)]
    return [(canonical_name(n), i, b) for n, i, b in found if n is not None]


def _check_grid(paths: Sequence[Path]) -> tuple[Any, Any, int, int]:
    """CRS, transform and size of the finest file; every file needs a CRS and a transform."""
    best = None
    for path in paths:
        check_crs(path, "scene")
        with open_raster(path) as ds:
            res = abs(ds.transform.a)
            if best is None or res < best[0]:
                best = (res, ds.crs, ds.transform, ds.height, ds.width)
    if best is None:
        raise RasterError("no scene given; pass one raster or several single-band files")
    return best[1], best[2], best[3], best[4]


def open_scene(
    paths: Sequence[str | Path],
    bands: Sequence[str],
    *,
    band_order: Sequence[str] | str | None = None,
    scale: str | None = None,
) -> Scene:
    """Match the model's ``bands`` in ``paths`` and decide the scaling (see module docstring)."""
    files = tuple(Path(p) for p in paths)
    if not files:
        raise RasterError("no scene given; pass one raster or several single-band files")
    if scale is not None and scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; valid names: {', '.join(SCALES)}")
    order = resolve_bands(band_order) if band_order is not None else None
    crs, transform, height, width = _check_grid(files)
    available = {name: (i, b) for name, i, b in reversed(_file_bands(files, order))}
    missing = [b for b in bands if b not in available]
    if missing:
        raise BandError(
            f"the model needs bands {', '.join(bands)} but {', '.join(map(str, files))} "
            f"holds {', '.join(available) or 'no recognisable bands'} (missing: "
            f"{', '.join(missing)}); name the scene's bands with --band-order"
        )
    scene = Scene(
        files,
        tuple(bands),
        tuple(available[b] for b in bands),
        crs,
        transform,
        height,
        width,
        False,
    )
    to_l4s = scale == "l4s" if scale is not None else _holds_raw_values(scene)
    return replace(scene, to_l4s=to_l4s)


def _holds_raw_values(scene: Scene) -> bool:
    with open_raster(scene.paths[0]) as ds:
        tags = {k.lower(): v.lower() for k, v in ds.tags().items()}
    tag = tags.get("slidewatch_scale", tags.get("scale"))
    if tag in ("raw", "l4s"):
        return tag == "raw"
    with SceneReader(scene) as reader:
        image, valid = reader.read_samples()
    if not valid.any():
        return False
    medians = {b: float(np.median(band[valid])) for b, band in zip(scene.bands, image, strict=True)}
    return looks_raw(medians)


class SceneReader:
    """Reads rows of a :class:`Scene` as (C×h×w float32 image, h×w bool valid)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self._stack = ExitStack()
        self._datasets: list[Any] = []
        self._zeros_are_nodata = False

    def __enter__(self) -> SceneReader:
        s = self.scene
        files = [self._stack.enter_context(open_raster(path)) for path in s.paths]
        self._zeros_are_nodata = zeros_are_nodata(files)
        for ds in files:
            if (ds.crs, ds.transform, ds.height, ds.width) != (
                s.crs,
                s.transform,
                s.height,
                s.width,
            ):
                ds = self._stack.enter_context(
                    WarpedVRT(
                        ds,
                        crs=s.crs,
                        transform=s.transform,
                        height=s.height,
                        width=s.width,
                        resampling=Resampling.bilinear,
                    )
                )
            self._datasets.append(ds)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def read(
        self, row: int, height: int, col: int = 0, width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``row``..``row+height`` (clipped to the scene), columns likewise."""
        width = self.scene.width - col if width is None else width
        window = Window(col, row, width, min(height, self.scene.height - row))
        return self._read(window=window)

    def read_overview(
        self, max_side: int, bands: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The whole scene decimated so its longer side is at most ``max_side``."""
        f = max(1, int(np.ceil(max(self.scene.height, self.scene.width) / max_side)))
        shape = (max(1, self.scene.height // f), max(1, self.scene.width // f))
        return self._read(out_shape=shape, bands=bands)

    def read_samples(self, count: int = 8, side: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """``count`` × ``count`` windows of ``side`` px spread over the scene, side by side.

        A cheap look at the values (a decimated read of a scene without overviews would read
        every block of it).
        """
        side = min(side, self.scene.height, self.scene.width)
        rows = np.linspace(0, self.scene.height - side, count).astype(int)
        cols = np.linspace(0, self.scene.width - side, count).astype(int)
        parts = [self.read(int(r), side, int(c), side) for r in rows for c in cols]
        return np.concatenate([p[0] for p in parts], axis=2), np.hstack([p[1] for p in parts])

    def any_valid(self, rows_per_read: int = 1024) -> bool:
        """Whether any pixel is valid, scanning the masks (only where samples found none)."""
        for row in range(0, self.scene.height, rows_per_read):
            if self.read(row, rows_per_read)[1].any():
                return True
        return False

    def _read(
        self, bands: Sequence[int] | None = None, **kwargs: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        picks = list(range(len(self.scene.bands)) if bands is None else bands)
        layers = [self._layer(index, **kwargs) for index in picks[:1]]
        image = np.empty((len(picks), *layers[0][0].shape), dtype=np.float32)
        unmasked = np.ones(layers[0][0].shape, dtype=bool)
        for k, index in enumerate(picks):
            layer, mask = layers[0] if k == 0 else self._layer(index, **kwargs)
            image[k] = layer
            unmasked &= mask
        valid = valid_pixels(image, unmasked, self._zeros_are_nodata)
        if self.scene.to_l4s:
            names = [self.scene.bands[i] for i in picks]
            image /= scale_vector(names).astype(np.float32)[:, None, None]
        image[:, ~valid] = 0.0
        return image, valid

    def _layer(self, index: int, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        file_index, band = self.scene.sources[index]
        ds = self._datasets[file_index]
        return ds.read(band, out_dtype="float32", **kwargs), ds.read_masks(band, **kwargs) > 0
