"""Bands stored on coarser pixels (Sentinel-2's 20 m and 60 m) loaded on their own grid and
repeated onto the 10 m stack grid, instead of warped onto it.

When a band's pixels are whole multiples of the stack's and their edges fall on the stack's
pixel edges (every Sentinel-2 tile of one UTM zone: tile origins are multiples of 20 m, and
so are the stack grid's edges), nearest-neighbour resampling is exactly "each 10 m pixel
takes the coarse pixel that contains it". odc-stac reads a grid it matches by pasting
windows, but any other resolution goes through GDAL's warper (``rasterio.warp.reproject``),
which measured ~0.7 s of CPU for the 20/60 m bands of a 2000² px stack, the largest single
cost of a fetch. So such a band is loaded by odc-stac on its native grid (a paste). When the
stack grid starts on the band's pixel edges and its chunks are whole numbers of the band's
pixels, or when the band is small enough to be one chunk (:func:`plan_coarse`), the band
stays coarse in the graph and each block is repeated where it is used; otherwise it is
repeated onto the stack grid here (:func:`repeat_onto`). Anything else — another CRS, a grid
off the stack's pixel edges, no ``proj:`` metadata — is loaded on the stack grid as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.stac.items import ParsedItem

EPS = 1e-6


def _whole(value: float) -> int | None:
    """``value`` as an int when it is one (to 1e-6), else None."""
    rounded = round(value)
    return int(rounded) if abs(value - rounded) < EPS else None


def native_grid(items: Sequence[ParsedItem], key: str, geobox: GeoBox) -> GeoBox | None:
    """The coarse grid of asset ``key`` covering ``geobox`` when every item stores it on
    the same coarser pixels whose edges fall on ``geobox``'s; None otherwise."""
    from affine import Affine
    from odc.geo.geobox import GeoBox
    from pyproj import CRS

    res = abs(geobox.affine.a)
    anchors = set()
    for item in items:
        crs, t = item.assets[key].crs, item.assets[key].transform
        if crs is None or t is None or t[1] or t[3] or abs(t[4] + t[0]) > EPS:
            return None
        if CRS.from_user_input(crs) != CRS.from_user_input(str(geobox.crs)):
            return None
        k = _whole(t[0] / res)
        dx, dy = _whole((geobox.affine.c - t[2]) / res), _whole((geobox.affine.f - t[5]) / res)
        if k is None or k < 2 or dx is None or dy is None:
            return None
        anchors.add((t[0], t[2] % t[0], t[5] % t[0]))
    if len(anchors) != 1:
        return None
    step, ax, ay = anchors.pop()
    left, top = geobox.affine.c, geobox.affine.f
    right, bottom = left + res * geobox.shape.x, top - res * geobox.shape.y
    x0 = ax + np.floor((left - ax) / step + EPS) * step
    y0 = ay + np.ceil((top - ay) / step - EPS) * step
    width = int(np.ceil((right - x0) / step - EPS))
    height = int(np.ceil((y0 - bottom) / step - EPS))
    return GeoBox((height, width), Affine(step, 0, x0, 0, -step, y0), geobox.crs)


WHOLE_MAX_PX = 4_000_000
"""Largest coarse band (pixels) loaded whole in one chunk: 16 MB of float32, a 20 m band of
a 40 km × 40 km AOI, a 60 m band of a 120 km × 120 km one."""


def shift_of(coarse_box: GeoBox, geobox: GeoBox) -> tuple[int, int]:
    """Stack pixels between the top-left corners of ``coarse_box`` and ``geobox`` (rows,
    columns; each in [0, k) for a grid from :func:`native_grid`)."""
    res = abs(geobox.affine.a)
    return (
        round((coarse_box.affine.f - geobox.affine.f) / res),
        round((geobox.affine.c - coarse_box.affine.c) / res),
    )


def plan_coarse(coarse_box: GeoBox, geobox: GeoBox, chunk_px: int) -> str:
    """How a band on ``coarse_box`` (from :func:`native_grid`) enters the stack's chunks:

    - ``whole``: the band is small enough (:data:`WHOLE_MAX_PX`) to be read in one piece,
      from which each stack chunk takes its window: every source tile is decoded once (read
      in chunks, the tiles on a chunk's edge are decoded again by its neighbour: the 20 m
      bands of the 2000² px bench stack took 1.76 s of CPU this way against 1.93 in chunks);
    - ``chunks``: larger, but the grids start together and a chunk of ``chunk_px`` stack
      pixels is a whole number of coarse pixels, so the band's chunks of ``chunk_px / k``
      pixels are the stack's chunks (20 m bands: the stack grid is on the 20 m lattice);
    - ``repeat``: anything else, repeated onto the stack grid as a dask array
      (:func:`repeat_onto`).

    In the first two, each block is repeated where it is used
    (:func:`~slidewatch.acquisition.blocks.to_fine`): no repeated copy in the graph, and no
    slicing and rechunking tasks."""
    k = round(abs(coarse_box.affine.a) / abs(geobox.affine.a))
    if coarse_box.shape.y * coarse_box.shape.x <= WHOLE_MAX_PX:
        return "whole"
    if shift_of(coarse_box, geobox) == (0, 0) and chunk_px % k == 0:
        return "chunks"
    return "repeat"


def repeat_onto(coarse: da.Array, coarse_box: GeoBox, geobox: GeoBox, chunk_px: int) -> da.Array:
    """``coarse`` (H'×W' on ``coarse_box``) repeated onto ``geobox``: each pixel takes the
    coarse pixel containing it (nearest-neighbour resampling, exactly)."""
    import dask.array as da

    k = round(abs(coarse_box.affine.a) / abs(geobox.affine.a))
    dy, dx = shift_of(coarse_box, geobox)  # fine rows above, columns left of the grid
    # Blockwise (one task a chunk), then the phase cropped and the chunks evened out.
    big = da.map_blocks(
        _repeat, coarse, k=k, dtype=coarse.dtype,
        chunks=tuple(tuple(k * c for c in axis) for axis in coarse.chunks),
    )  # fmt: skip
    return big[dy : dy + geobox.shape.y, dx : dx + geobox.shape.x].rechunk(chunk_px)


def _repeat(block: np.ndarray, k: int) -> np.ndarray:
    return block.repeat(k, axis=0).repeat(k, axis=1)


def split_by_grid(
    items: Sequence[ParsedItem], keys: Mapping[str, str], geobox: GeoBox
) -> tuple[dict[str, str], list[tuple[GeoBox, dict[str, str]]]]:
    """Bands (band -> asset key) loaded on ``geobox`` itself, and the others grouped by
    their native grid."""
    fine: dict[str, str] = {}
    coarse: dict[Any, tuple[GeoBox, dict[str, str]]] = {}
    for band, key in keys.items():
        grid = native_grid(items, key, geobox)
        if grid is None:
            fine[band] = key
        else:
            ident = (tuple(grid.affine)[:6], tuple(grid.shape))
            coarse.setdefault(ident, (grid, {}))[1][band] = key
    return fine, list(coarse.values())
