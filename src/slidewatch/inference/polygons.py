"""Landslide polygons from the binary raster: areas in local UTM, GeoJSON in EPSG:4326.

Two passes over the landslide raster, both linear in its area, their working memory
bounded by its width (the polygons found are held, as the outputs need them all):

- the shapes: GDAL's polygonizer (:func:`rasterio.features.shapes` given a *band of the open
  dataset*, 4-connected) scans the raster line by line and holds only the polygons it is
  building and those it finished; regions are whole at once, so no geometry is ever unioned
  (unioning the pieces of regions cut by strips made 4096² px take 397 s, a twentyfold
  growth per fourfold area, on a mask that was mostly landslide). GDAL maps the vertices by
  the raster's transform;
- the statistics: strips of at most ``strip_rows`` rows are labelled (4-connected,
  :func:`scipy.ndimage.label`); labels that touch across a strip border are joined by a
  union-find, and each region's pixel count and probability sum (the pixels of a region are
  exactly the pixel centres inside its polygon) are added up per label, then per region. A
  region is named by its first pixel in raster order, which is the top-left corner of its
  polygon's lowest (row, column) vertex: that is how a polygon finds its mean probability.

Each polygon's area is computed after projecting it to the UTM zone of the scene's centre
(metres, locally conformal and close to equal-area).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform_geom
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry import box, mapping, shape

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.inference.cog import PARTIAL_SUFFIX

LANDSLIDE = 1
NODATA = 255
STRIP_ROWS = 1024
MIN_AREA_M2 = 250.0
"""``detect``'s default smallest polygon: between two and three 10 m pixels, so one- and
two-pixel specks (below any mapping unit at 10 m; a third of the polygons of a real run
were single pixels) are dropped and three-pixel regions kept, also on grids of slightly
smaller pixels (about 92 m² in EPSG:4326 at 22° N). No labelled Chittagong landslide is
that small (the smallest of 121 is 12 pixels)."""


@dataclass(frozen=True)
class Polygons:
    """The kept polygons and what the minimum area dropped."""

    features: list[dict[str, Any]]
    """GeoJSON features (EPSG:4326), largest first, at least ``min_area_m2`` each."""
    dropped_count: int
    """Regions smaller than ``min_area_m2``."""
    dropped_area_m2: float
    """Their total area (local UTM)."""


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS holding (``lon``, ``lat``)."""
    zone = int(np.clip((lon + 180.0) // 6 + 1, 1, 60))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def scene_utm(crs: Any, bounds: tuple[float, float, float, float]) -> CRS:
    """The UTM zone of the centre of ``bounds`` (in ``crs``)."""
    centre = transform_geom(crs, "EPSG:4326", mapping(box(*bounds).centroid))
    lon, lat = centre["coordinates"]
    return utm_crs(lon, lat)


def pixel_area_m2(crs: Any, transform: Any, height: int, width: int) -> float:
    """Mean ground area of one pixel in m² (scene footprint in UTM / pixel count)."""
    west, south, east, north = rasterio.transform.array_bounds(height, width, transform)
    footprint = transform_geom(
        crs, scene_utm(crs, (west, south, east, north)), mapping(box(west, south, east, north))
    )
    return float(shape(footprint).area) / (height * width)


def _first_pixels(flat: np.ndarray, count: int) -> np.ndarray:
    """Flat index of each label's first pixel (labels 1..``count``, in raster order)."""
    at = np.flatnonzero(flat)
    labels = flat[at]
    # scipy numbers labels in the order of their first pixel: a label is new where it
    # exceeds every label before it
    new = np.empty(labels.size, bool)
    new[0] = True
    np.greater(labels[1:], np.maximum.accumulate(labels[:-1]), out=new[1:])
    if new.sum() != count or not np.array_equal(labels[new], np.arange(1, count + 1)):
        _, first = np.unique(labels, return_index=True)  # not in order: the general way
        return at[first]
    return at[new]


def _root(parent: list[int], k: int) -> int:
    """Union-find: the representative of ``k`` (halving the path on the way)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


@dataclass(frozen=True)
class RegionStats:
    """Pixel count and probability sum of each landslide region, by its first pixel."""

    first: np.ndarray
    """Flat index (row × width + column) of each region's first pixel, increasing."""
    count: np.ndarray
    """Pixels of each region."""
    total: np.ndarray
    """Sum of the probabilities of its pixels (float64)."""

    def mean(self, key: int) -> float:
        """Mean probability of the region whose first pixel is ``key``."""
        i = int(np.searchsorted(self.first, key))
        if i == self.first.size or self.first[i] != key:
            raise KeyError(key)  # a polygon without its region: a bug, not a user error
        return float(self.total[i] / self.count[i])


def region_stats(
    ds: Any, prob: Any, strip_rows: int = STRIP_ROWS, step: Callable[[int], object] | None = None
) -> RegionStats:
    """Count and probability sum of the 4-connected landslide regions of ``ds``.

    Strips of ``strip_rows`` rows are labelled; a label takes the next free global number,
    and numbers touching across a strip border are joined (union-find, the smaller number
    the representative, so a region keeps the number, and the first pixel, it began with).
    ``step(rows)`` is called after each strip (a progress bar).
    """
    if strip_rows < 1:
        raise ValueError(f"strip_rows must be >= 1, got {strip_rows}")
    parent: list[int] = []
    counts, totals, firsts = [], [], []
    carry: np.ndarray | None = None  # global numbers of the previous strip's last row, or -1
    for row0 in range(0, ds.height, strip_rows):
        window = Window(0, row0, ds.width, min(strip_rows, ds.height - row0))
        labels, n = ndimage.label(ds.read(1, window=window) == LANDSLIDE)
        offset = len(parent) - 1  # label k becomes global number offset + k
        if n:
            flat = labels.ravel()
            values = prob.read(1, window=window).ravel()
            counts.append(np.bincount(flat, minlength=n + 1)[1:])
            totals.append(np.bincount(flat, weights=values, minlength=n + 1)[1:])
            firsts.append(_first_pixels(flat, n) + row0 * ds.width)
            parent.extend(range(offset + 1, offset + n + 1))
            if carry is not None:
                top = labels[0]
                both = (carry >= 0) & (top > 0)
                pairs = np.unique(np.stack([carry[both], top[both] + offset], axis=1), axis=0)
                for a, b in pairs.tolist():
                    ra, rb = _root(parent, a), _root(parent, b)
                    parent[max(ra, rb)] = min(ra, rb)
            carry = np.where(labels[-1] > 0, labels[-1] + offset, -1)
        else:
            carry = None
        if step is not None:
            step(window.height)
    if not parent:
        empty = np.zeros(0, np.int64)
        return RegionStats(empty, empty, np.zeros(0))
    root = np.asarray(parent, np.int64)
    while True:  # pointer jumping: every number to its representative
        up = root[root]
        if np.array_equal(up, root):
            break
        root = up
    heads = np.flatnonzero(root == np.arange(root.size))
    return RegionStats(
        first=np.concatenate(firsts)[heads],
        count=np.bincount(root, weights=np.concatenate(counts), minlength=root.size)[heads],
        total=np.bincount(root, weights=np.concatenate(totals), minlength=root.size)[heads],
    )


def landslide_shapes(ds: Any) -> Iterator[dict[str, Any]]:
    """Landslide polygons of ``ds`` (4-connected) in its CRS.

    GDAL's polygonizer on the dataset's band (not an array: it reads line by line), which
    maps vertices by the dataset's transform; the band is its own mask, so background (0)
    makes no polygons, and no-data (255) polygons are dropped here.
    """
    band = rasterio.band(ds, 1)
    for geom, value in rasterio.features.shapes(band, mask=band, connectivity=4):
        if value == LANDSLIDE:
            yield geom


def first_pixel(geom: dict[str, Any], transform: Affine, width: int) -> int:
    """Flat index of the first pixel (raster order) of the region ``geom`` (in the CRS).

    The region's first pixel is its top row's leftmost: its top-left corner is the exterior
    ring's lowest vertex in (row, column) order.
    """
    a, b, c, d, e, f = (~transform)[:6]
    ring = np.asarray(geom["coordinates"][0])
    cols = np.rint(a * ring[:, 0] + b * ring[:, 1] + c)
    rows = np.rint(d * ring[:, 0] + e * ring[:, 1] + f)
    top = rows.min()
    return int(top) * width + int(cols[rows == top].min())


def landslide_polygons(
    landslides: Path,
    probability: Path,
    min_area_m2: float = 0.0,
    *,
    strip_rows: int = STRIP_ROWS,
) -> list[dict[str, Any]]:
    """GeoJSON features (EPSG:4326) of connected landslide regions, largest first.

    Properties: ``area_m2`` (local UTM), ``mean_probability``; regions below
    ``min_area_m2`` are dropped. The statistics pass reads ``strip_rows`` rows at a time.
    """
    return find_polygons(landslides, probability, min_area_m2, strip_rows=strip_rows).features


def find_polygons(
    landslides: Path,
    probability: Path,
    min_area_m2: float = 0.0,
    *,
    strip_rows: int = STRIP_ROWS,
    progress: bool = False,
) -> Polygons:
    """:func:`landslide_polygons` with the count and area of the regions dropped.

    ``progress``: a bar on a terminal (rows labelled, then rows polygonised).
    """
    from tqdm.auto import tqdm

    with (
        rasterio.open(landslides) as ds,
        rasterio.open(probability) as prob,
        tqdm(total=2 * ds.height, unit="row", desc="polygons", disable=not progress or None) as bar,
    ):
        stats = region_stats(ds, prob, strip_rows, bar.update)
        geoms = list(landslide_shapes(ds))
        bar.update(ds.height)
        if not geoms:
            return Polygons([], 0, 0.0)
        means = [stats.mean(first_pixel(g, ds.transform, ds.width)) for g in geoms]
        utm = scene_utm(ds.crs, tuple(ds.bounds))
        areas = [shape(g).area for g in transform_geom(ds.crs, utm, geoms)]
        kept = [k for k, a in enumerate(areas) if a >= min_area_m2]
        dropped = [a for a in areas if a < min_area_m2]
        lonlat = transform_geom(ds.crs, "EPSG:4326", [geoms[k] for k in kept]) if kept else []
    features = [
        {
            "type": "Feature",
            "geometry": geom,
            "properties": {"area_m2": round(areas[k], 2), "mean_probability": round(means[k], 4)},
        }
        for k, geom in zip(kept, lonlat, strict=True)
    ]
    features.sort(key=lambda f: (-f["properties"]["area_m2"], json.dumps(f["geometry"])))
    for i, feature in enumerate(features, start=1):
        feature["id"] = i
        feature["properties"] = {"id": i, **feature["properties"]}
    return Polygons(features, len(dropped), float(sum(dropped)))


def write_geojson(features: list[dict[str, Any]], path: Path, scene_crs: Any) -> None:
    """A GeoJSON FeatureCollection (EPSG:4326 per RFC 7946) noting the scene's CRS."""
    collection = {
        "type": "FeatureCollection",
        "scene_crs": CRS.from_user_input(scene_crs).to_string(),
        "features": features,
    }
    write_text_atomic(path, json.dumps(collection), PARTIAL_SUFFIX)


def write_gpkg(features: list[dict[str, Any]], path: Path) -> None:
    """The same polygons as a GeoPackage layer ``landslides`` (needs fiona)."""
    import fiona

    schema = {
        "geometry": "Polygon",
        "properties": {"id": "int", "area_m2": "float", "mean_probability": "float"},
    }
    with atomic_output(path, PARTIAL_SUFFIX) as tmp:
        tmp.unlink()  # the GPKG driver refuses to create over an existing file
        with fiona.open(
            tmp, "w", driver="GPKG", crs="EPSG:4326", schema=schema, layer="landslides"
        ) as dst:
            for feature in features:
                dst.write({"geometry": feature["geometry"], "properties": feature["properties"]})
