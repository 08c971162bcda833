"""PNG map tiles of archived products, rendered by rio-tiler.

Four layers: ``probability`` (a yellow-to-red ramp whose opacity grows with the probability),
``landslides`` (class colours; 0 and 255 transparent), ``change`` (the change raster against the
previous run: new, persisting, gone, and unknown ground that either date could not see, in the
web map's legend colours) and ``rgb`` (B4, B3, B2 of the stack with one stretch per file, so
neighbouring tiles match). The functions here take a
:class:`~slidewatch.monitoring.archive.Product` that the archive has already admitted: a local
file, or a file of an fsspec filesystem that rasterio reads through ``opener=``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from slidewatch.bands import band_from_description
from slidewatch.monitoring.archive import Product
from slidewatch.rgb import colour_bands, percentile_limits
from slidewatch.service.problems import NotFound

LAYERS = ("probability", "landslides", "change", "rgb")
"""Tile layers, in the order the web map lists them."""

LANDSLIDE_RGBA = (230, 40, 20, 255)
"""The landslide class colour of tiles and of the web map's polygons."""

TILE_PX = 256
MAX_ZOOM = 24
MAX_READ_PX = 2048 * 2048
"""Most source pixels one tile may read (after GDAL picks the best overview): a tile of a zoom
far below a product's coarsest overview would read the whole file (a minute of a core)."""
EQUATOR_M = 40_075_016.686


def _probability_ramp() -> dict[int, tuple[int, int, int, int]]:
    # yellow to red, transparent below 0.1 and opaque from 0.7, so the imagery shows through
    # where the model sees nothing
    ramp = {}
    for v in range(256):
        t = v / 255
        alpha = int(255 * min(1.0, max(0.0, (t - 0.1) / 0.6)))
        ramp[v] = (255, int(230 * (1 - t)), int(40 * (1 - t)), alpha)
    return ramp


PROBABILITY_RAMP = _probability_ramp()
CLASS_COLOURS = {0: (0, 0, 0, 0), 1: LANDSLIDE_RGBA, 255: (0, 0, 0, 0)}
CHANGE_COLOURS = {
    0: (0, 0, 0, 0), 1: (255, 230, 0, 255), 2: (230, 40, 20, 160), 3: (120, 160, 255, 200),
    254: (0, 0, 0, 0), 255: (150, 150, 150, 170),
}  # fmt: skip
"""Change classes (:data:`slidewatch.monitoring.kinds.CHANGE_CLASSES`): new yellow, persisting
landslide red, gone blue, unknown (255, the raster's nodata, drawn: not seen) grey; 254 is
the fill outside the raster."""


PRODUCT_KEYS = {
    "probability": ("probability.tif",),
    "landslides": ("landslides.tif",),
    "change": ("change.tif",),
    "rgb": ("rgb.tif",),
}
"""Which of a run's products each layer reads, first match wins."""


def product_path(products: dict[str, Any], layer: str) -> str:
    if layer not in LAYERS:
        raise NotFound(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    for key in PRODUCT_KEYS[layer]:
        if isinstance(products.get(key), str):
            return str(products[key])
    raise NotFound(f"this run has no {layer} product; see the run's products in GET /runs/{{id}}")


@contextmanager
def _reader(product: Product) -> Iterator[Reader]:
    """rio-tiler's Reader over the product; a remote one through a dataset opened by fsspec."""
    if product.fs is None:
        with Reader(product.path) as src:
            yield src
        return
    with product.open() as dataset, Reader(product.path, dataset=dataset) as src:
        yield src


@lru_cache(maxsize=256)
def _rgb_plan(product: Product) -> tuple[tuple[int, ...], tuple[tuple[float, float], ...]]:
    """Band indexes (1-based) of B4, B3, B2 (or the first three) and their stretch ranges
    (the one stretch's percentiles, of the pixels seen), from the file's smallest overview;
    cached per file version."""
    with product.open() as src:
        names = [band_from_description(d) for d in src.descriptions]
        indexes = tuple(i + 1 for i in colour_bands(names, three=True))
        scale = max(1, max(src.width, src.height) // 1024)
        shape = (max(1, src.height // scale), max(1, src.width // scale))
        data = src.read(indexes, out_shape=(len(indexes), *shape), masked=True)
    seen = np.ma.filled(data.astype(np.float64), np.nan)
    seen[seen == 0] = np.nan  # 0: unseen in the RGB product
    limits = percentile_limits(seen)
    return indexes, tuple((float(lo), float(max(hi, lo + 1e-6))) for lo, hi in limits)


def check_tile(product: Product, z: int, x: int, y: int) -> None:
    """:class:`NotFound` for a tile outside the grid, outside the product's zoom range (its
    ``minzoom``..``maxzoom``, as ``GET /runs/{id}`` lists them) or over the read budget."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"tile {z}/{x}/{y} does not exist; z is 0..{MAX_ZOOM}, x and y 0..2^z-1")
    _, minzoom, maxzoom, coarsest_m, lat = _footprint(product)
    if not minzoom <= z <= maxzoom:
        raise NotFound(
            f"zoom {z} is outside this run's zooms {minzoom}..{maxzoom} (GET /runs/{{id}} "
            "lists them); zoom in or out"
        )
    if read_pixels(z, lat, coarsest_m) > MAX_READ_PX:
        raise NotFound(f"zoom {z} would read too much of this product; zoom in")


def read_pixels(z: int, lat: float, coarsest_m: float) -> float:
    """Source pixels a ``TILE_PX`` tile of zoom ``z`` at latitude ``lat`` reads from a file
    whose coarsest overview has pixels of ``coarsest_m`` metres."""
    tile_m = EQUATOR_M * math.cos(math.radians(lat)) / 2**z
    return (max(TILE_PX, tile_m / coarsest_m)) ** 2


def render_tile(product: Product, layer: str, z: int, x: int, y: int) -> bytes:
    """The PNG of tile ``z/x/y`` of ``layer`` read from ``product``; :class:`NotFound` outside
    the product, its zoom range or the read budget (:func:`check_tile`)."""
    if layer not in LAYERS:
        raise NotFound(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    check_tile(product, z, x, y)
    try:
        # rescaling casts the NaN no-data fill to 8 bits (masked pixels); errstate is per thread
        with np.errstate(invalid="ignore"), _reader(product) as src:
            if layer == "rgb":
                indexes, ranges = _rgb_plan(product)
                img = src.tile(x, y, z, tilesize=TILE_PX, indexes=indexes)
                return img.rescale(in_range=ranges).render(img_format="PNG")
            if layer == "probability":
                img = src.tile(x, y, z, tilesize=TILE_PX, indexes=1, resampling_method="bilinear")
                return img.rescale(in_range=((0.0, 1.0),)).render(
                    img_format="PNG", colormap=PROBABILITY_RAMP
                )
            if layer == "change":  # unknown is the nodata value, drawn: 254 fills outside
                img = src.tile(x, y, z, tilesize=TILE_PX, indexes=1, nodata=254,
                               resampling_method="nearest")  # fmt: skip
                return img.render(img_format="PNG", colormap=CHANGE_COLOURS)
            img = src.tile(x, y, z, tilesize=TILE_PX, indexes=1, resampling_method="nearest")
            return img.render(img_format="PNG", colormap=CLASS_COLOURS)
    except TileOutsideBounds:
        raise NotFound(f"tile {z}/{x}/{y} lies outside the product; see the run's bbox") from None


@lru_cache(maxsize=1024)
def _footprint(product: Product) -> tuple[list[float], int, int, float, float]:
    """Bounds, zoom range, the coarsest overview's pixel size (metres) and the centre latitude."""
    with _reader(product) as src:
        bounds = [float(v) for v in src.get_geographic_bounds("epsg:4326")]
        dataset: Any = src.dataset
        factor = max(dataset.overviews(1) or [1])
        pixel = max(abs(dataset.res[0]), abs(dataset.res[1]))
        if dataset.crs is not None and dataset.crs.is_geographic:
            pixel *= EQUATOR_M / 360  # degrees to metres at the equator (an upper bound)
        lat = (bounds[1] + bounds[3]) / 2
        return bounds, int(src.minzoom), int(src.maxzoom), pixel * factor, lat


def footprint(product: Product) -> dict[str, Any]:
    """Lon/lat bounds and the native zoom range of an archived raster (cached per version)."""
    bounds, minzoom, maxzoom, _, _ = _footprint(product)
    return {"bounds": bounds, "minzoom": minzoom, "maxzoom": maxzoom}
