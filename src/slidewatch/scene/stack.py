"""A georeferenced band stack: :class:`Scene` (where each band comes from, the grid and the
scaling) and :class:`SceneReader` (strips, windows, samples and overviews of it).

:func:`open_scene` takes one raster, band files at mixed resolutions, or tiles (files or
folders) mosaicked into one; it matches bands (:mod:`slidewatch.scene.matching`), puts every
source on the grid of the finest one (a :class:`rasterio.vrt.WarpedVRT`, bilinear; a
mosaic of tiles is regridded through :func:`rasterio.merge.merge`) and decides the scaling:

``scale="l4s"`` divides raw values by the L4S constants (:func:`slidewatch.bands.raw_to_l4s`);
``scale="none"`` reads values as they are. With ``scale=None`` the scene decides: a metadata
tag ``SLIDEWATCH_SCALE`` (or ``scale``) of ``raw``/``l4s`` wins; otherwise the per-band
medians of 64 sample windows decide (:func:`slidewatch.bands.looks_raw`: L4S-scale values
are about 0.5-2, raw Sentinel-2 digital numbers are hundreds to thousands).

Validity is :func:`slidewatch.scene.validity.valid_pixels`; invalid pixels read as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from slidewatch.bands import BAND_NAMES, SCALES, looks_raw, resolve_bands, scale_vector
from slidewatch.errors import BandError, ConfigError, RasterError
from slidewatch.scene.files import expand_folders
from slidewatch.scene.grid import Grid
from slidewatch.scene.matching import (
    SourceBand,
    all_named,
    group_files,
    missing_bands_message,
    source_bands,
)
from slidewatch.scene.mosaic import on_grid, open_rasters
from slidewatch.scene.validity import valid_pixels, zeros_are_nodata


@dataclass(frozen=True)
class Scene:
    """Where each band of a scene comes from, the scene's grid and its scaling."""

    paths: tuple[Path, ...]
    """The input file(s), folders expanded."""
    bands: tuple[str, ...]
    """Bands, in the order they are read (the model's, or all of the scene's in L4S order)."""
    sources: tuple[tuple[int, int], ...]
    """Per band: (index into :attr:`groups`, 1-based band index in that source)."""
    crs: Any
    """The scene's CRS (rasterio CRS) — also that of every output."""
    transform: Any
    """The scene's affine transform (of the finest source)."""
    height: int
    """Rows."""
    width: int
    """Columns."""
    to_l4s: bool
    """Whether raw values are divided by the L4S constants on reading."""
    groups: tuple[tuple[Path, ...], ...] = ()
    """The sources: one file each, or the tiles of one mosaic. Empty: each path alone."""

    @property
    def sources_files(self) -> tuple[tuple[Path, ...], ...]:
        """:attr:`groups`, or each path alone for scenes built without groups."""
        return self.groups or tuple((p,) for p in self.paths)

    @property
    def grid(self) -> Grid:
        """CRS, transform and size."""
        return Grid.of(self)


def _finest_grid(groups: Sequence[Sequence[Path]]) -> Grid:
    best: tuple[float, Grid] | None = None
    for paths in groups:
        with open_rasters(paths) as ds:
            res = abs(ds.transform.a)
            if best is None or res < best[0]:
                best = (res, Grid.of(ds))
    if best is None:
        raise RasterError("no scene given; pass one raster, band files or a folder of tiles")
    return best[1]


def _pick(
    found: list[SourceBand],
    bands: Sequence[str] | None,
    groups: Sequence[Sequence[Path]],
    band_order_given: bool = False,
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The requested bands' sources (all bands in L4S order when ``bands`` is None)."""
    if bands is None:
        all_named(found, groups)
        ordered = sorted(found, key=lambda f: BAND_NAMES.index(str(f.name)))
        return tuple(str(f.name) for f in ordered), tuple((f.source, f.band) for f in ordered)
    available = {f.name: (f.source, f.band) for f in reversed(found) if f.name}
    if any(b not in available for b in bands):
        raise BandError(missing_bands_message(bands, found, groups, band_order_given))
    return tuple(bands), tuple(available[b] for b in bands)


def open_scene(
    paths: Sequence[str | Path],
    bands: Sequence[str] | None = None,
    *,
    band_order: Sequence[str] | str | None = None,
    scale: str | None = None,
) -> Scene:
    """Match ``bands`` (None: every band of the scene, each named) in ``paths`` (files or
    folders of tiles) and decide the scaling (see module docstring)."""
    files = tuple(expand_folders([Path(p) for p in paths]))
    if not files:
        raise RasterError("no scene given; pass one raster, band files or a folder of tiles")
    if scale is not None and scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; valid names: {', '.join(SCALES)}")
    order = resolve_bands(band_order) if band_order is not None else None
    groups = group_files(files)
    grid = _finest_grid(groups)
    names, sources = _pick(source_bands(groups, order), bands, groups, order is not None)
    scene = Scene(
        files, names, sources, grid.crs, grid.transform, grid.height, grid.width, False, groups
    )
    to_l4s = scale == "l4s" if scale is not None else holds_raw_values(scene)
    return replace(scene, to_l4s=to_l4s)


def holds_raw_values(scene: Scene) -> bool:
    """The scaling rule: a ``SLIDEWATCH_SCALE`` tag, else the medians of sample windows."""
    with open_rasters(scene.sources_files[0]) as ds:
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
    """Reads rows of a :class:`Scene` as (C×h×w image, h×w bool valid); float32 by default."""

    def __init__(self, scene: Scene, dtype: Any = np.float32) -> None:
        self.scene = scene
        self.dtype = np.dtype(dtype)
        self._stack = ExitStack()
        self._datasets: list[Any] = []
        self._zeros_are_nodata = False

    def __enter__(self) -> SceneReader:
        opened = [
            self._stack.enter_context(open_rasters(paths)) for paths in self.scene.sources_files
        ]
        self._zeros_are_nodata = zeros_are_nodata(opened)
        grid = self.scene.grid
        self._datasets = [on_grid(ds, grid, Resampling.bilinear, self._stack) for ds in opened]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the scene (a :class:`~slidewatch.scene.WindowReader`: windows
        past the edge through :func:`~slidewatch.scene.read_padded`)."""
        return self.scene.height, self.scene.width

    @property
    def count(self) -> int:
        """Bands read."""
        return len(self.scene.bands)

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
        image: np.ndarray | None = None
        unmasked = np.ones((1, 1), dtype=bool)
        by_source: dict[int, list[int]] = {}
        for k, index in enumerate(picks):  # one read per source: a mosaic merges once
            by_source.setdefault(self.scene.sources[index][0], []).append(k)
        for source, ks in by_source.items():
            bands_in = [self.scene.sources[picks[k]][1] for k in ks]
            block = self._datasets[source].read(
                bands_in, masked=True, out_dtype=self.dtype, **kwargs
            )
            if image is None:
                image = np.empty((len(picks), *block.shape[1:]), dtype=self.dtype)
                unmasked = np.ones(block.shape[1:], dtype=bool)
            image[ks] = np.ma.getdata(block)
            unmasked &= ~np.ma.getmaskarray(block).any(axis=0)
        if image is None:
            raise ValueError("no band to read; pass at least one band index")
        valid = valid_pixels(image, unmasked, self._zeros_are_nodata)
        if self.scene.to_l4s:
            names = [self.scene.bands[i] for i in picks]
            image /= scale_vector(names).astype(self.dtype)[:, None, None]
        image[:, ~valid] = 0.0
        return image, valid
