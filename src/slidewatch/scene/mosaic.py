"""Several rasters of one CRS and band layout read as one, window by window.

A :class:`Mosaic` answers the part of rasterio's dataset interface a scene needs (grid,
band layout, ``read`` with a window, ``out_shape`` or ``masked``) by calling
:func:`rasterio.merge.merge` with the bounds of each window: nothing is copied to disk and
memory follows the window, not the scene. Where tiles overlap the first file wins (merge's
``first`` method). Pixels no tile covers are masked, as are nodata pixels of tiles that
declare a nodata value; tiles without one keep their zeros (merge alone would mask every 0,
band by band, where the scene rule wants 0 in every band).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.merge import merge
from rasterio.transform import from_origin
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rasterio.windows import bounds as window_bounds

from slidewatch.errors import RasterError
from slidewatch.scene.files import open_raster
from slidewatch.scene.grid import Grid


class Mosaic:
    """Read-only view of ``paths`` mosaicked onto one grid (their union, or ``grid``)."""

    def __init__(
        self,
        paths: Sequence[Path],
        what: str = "scene",
        grid: Grid | None = None,
        resampling: Resampling = Resampling.nearest,
    ) -> None:
        self.paths = tuple(Path(p) for p in paths)
        self._stack = ExitStack()
        self._datasets = [self._stack.enter_context(open_raster(p, what)) for p in self.paths]
        first = self._datasets[0]
        for path, ds in zip(self.paths[1:], self._datasets[1:], strict=True):
            if ds.crs != first.crs or ds.count != first.count:
                self.close()
                raise RasterError(
                    f"{what} {path} has CRS {ds.crs} and {ds.count} bands but {self.paths[0]} "
                    f"has {first.crs} and {first.count}; mosaic only files of one CRS and "
                    "band layout"
                )
        # (left, bottom, right, top) once: rasterio recomputes .bounds on every access
        self._bounds = [tuple(ds.bounds) for ds in self._datasets]
        self.name = f"{self.paths[0]} (+{len(self.paths) - 1} files)"
        self.count, self.descriptions, self.nodata = first.count, first.descriptions, first.nodata
        self.dtypes, self._resampling = first.dtypes, resampling
        grid = grid or self._union_grid()
        if grid.crs != first.crs:
            self.close()
            raise RasterError(
                f"{what} tiles {self.name} are in {first.crs}, the scene in {grid.crs}; "
                "reproject the tiles to one CRS first (gdalwarp)"
            )
        self.crs, self.transform = grid.crs, grid.transform
        self.height, self.width = grid.height, grid.width

    def _union_grid(self) -> Grid:
        first = self._datasets[0]
        xres, yres = first.res
        left = min(b[0] for b in self._bounds)
        bottom = min(b[1] for b in self._bounds)
        right = max(b[2] for b in self._bounds)
        top = max(b[3] for b in self._bounds)
        width, height = round((right - left) / xres), round((top - bottom) / yres)
        return Grid(first.crs, from_origin(left, top, xres, yres), height, width)

    @property
    def bounds(self) -> Any:
        """The mosaic's bounds (rasterio ``BoundingBox``)."""
        from rasterio.coords import BoundingBox

        left, top = self.transform.c, self.transform.f
        return BoundingBox(
            left, top + self.transform.e * self.height, left + self.transform.a * self.width, top
        )

    def tags(self, *args: Any) -> dict[str, str]:
        """The first file's tags."""
        return dict(self._datasets[0].tags(*args))

    def read(
        self,
        indexes: int | Sequence[int] | None = None,
        window: Window | None = None,
        out_shape: tuple[int, ...] | None = None,
        masked: bool = False,
        out_dtype: Any = None,
    ) -> np.ndarray:
        """Like ``DatasetReader.read`` (``indexes``, ``window``, ``out_shape``, ``masked``)."""
        single = isinstance(indexes, int)
        idx = [indexes] if isinstance(indexes, int) else list(indexes or range(1, self.count + 1))
        window = window or Window(0, 0, self.width, self.height)
        shape = (int(window.height), int(window.width))
        if out_shape is not None:
            shape = (int(out_shape[-2]), int(out_shape[-1]))
        left, bottom, right, top = window_bounds(window, self.transform)
        res = ((right - left) / shape[1], (top - bottom) / shape[0])
        # merge looks at every file for every call: hand it only the tiles this window touches
        touching = [
            ds for ds, (x0, y0, x1, y1) in zip(self._datasets, self._bounds, strict=True)
            if x0 < right and x1 > left and y0 < top and y1 > bottom
        ]  # fmt: skip
        if touching:
            data, _ = merge(
                touching, bounds=(left, bottom, right, top), res=res, indexes=idx,
                dtype=out_dtype, resampling=self._resampling, masked=True,
            )  # fmt: skip
            data = _fit(np.ma.asarray(data), shape)
        else:
            dtype = out_dtype or self.dtypes[0]
            data = _nothing((len(idx), *shape), dtype)
        if self.nodata is None:  # merge masks every 0 then; only uncovered pixels are nodata
            uncovered = ~self._coverage((left, top), res, shape)
            data = np.ma.MaskedArray(
                np.ma.getdata(data), mask=np.broadcast_to(uncovered, data.shape)
            )
        if not masked:
            data = data.filled(self.nodata if self.nodata is not None else 0)
        return data[0] if single else data

    def _coverage(
        self, origin: tuple[float, float], res: tuple[float, float], shape: tuple[int, int]
    ) -> np.ndarray:
        """Which pixels of a grid (top-left ``origin``, ``res``, ``shape``) a tile covers."""
        covered = np.zeros(shape, dtype=bool)
        for left, bottom, right, top in self._bounds:
            c0 = max(0, round((left - origin[0]) / res[0]))
            c1 = min(shape[1], round((right - origin[0]) / res[0]))
            r0 = max(0, round((origin[1] - top) / res[1]))
            r1 = min(shape[0], round((origin[1] - bottom) / res[1]))
            if r1 > r0 and c1 > c0:
                covered[r0:r1, c0:c1] = True
        return covered

    def read_masks(self, indexes: int | Sequence[int] | None = None, **kwargs: Any) -> np.ndarray:
        """255 where a pixel is covered and not nodata, else 0 (rasterio's convention)."""
        data = self.read(indexes, masked=True, **kwargs)
        return np.where(np.ma.getmaskarray(data), 0, 255).astype(np.uint8)

    def close(self) -> None:
        """Close every tile."""
        self._stack.close()

    def __enter__(self) -> Mosaic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fit(data: np.ma.MaskedArray, shape: tuple[int, int]) -> np.ma.MaskedArray:
    """Crop or pad (masked) a merge result to ``shape``: merge rounds sizes from bounds."""
    if data.shape[-2:] == shape:
        return data
    out = _nothing((data.shape[0], *shape), data.dtype)
    h, w = min(shape[0], data.shape[1]), min(shape[1], data.shape[2])
    out[:, :h, :w] = data[:, :h, :w]
    return out


def _nothing(shape: tuple[int, ...], dtype: Any) -> np.ma.MaskedArray:
    """Masked zeros (``np.ma.masked_all`` leaves the data uninitialised: NaN, inf...)."""
    return np.ma.MaskedArray(np.zeros(shape, dtype=dtype), mask=np.ones(shape, dtype=bool))


def open_rasters(paths: Sequence[Path], what: str = "scene") -> Any:
    """One raster opened as it is, several as a :class:`Mosaic` (both are context managers)."""
    if not paths:
        raise RasterError(f"no {what} file given; pass at least one GeoTIFF or VRT")
    if len(paths) == 1:
        return open_raster(Path(paths[0]), what)
    return Mosaic(paths, what)


def on_grid(ds: Any, grid: Grid, resampling: Resampling, stack: ExitStack) -> Any:
    """``ds`` read on ``grid``: itself, a WarpedVRT of a file, or the mosaic regridded."""
    if (ds.crs, ds.transform, ds.height, ds.width) == (
        grid.crs, grid.transform, grid.height, grid.width,
    ):  # fmt: skip
        return ds
    if isinstance(ds, Mosaic):
        return stack.enter_context(Mosaic(ds.paths, grid=grid, resampling=resampling))
    return stack.enter_context(
        WarpedVRT(
            ds, crs=grid.crs, transform=grid.transform, height=grid.height, width=grid.width,
            resampling=resampling,
        )
    )  # fmt: skip
