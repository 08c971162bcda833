"""Landslide polygons from the binary raster: areas in local UTM, GeoJSON in EPSG:4326.

Two passes over the landslide raster, both linear in its area, their working memory
bounded by its width (the polygons found are held, as the outputs need them all):

- the shapes: GDAL's polygonizer (:func:`rasterio.features.shapes` given a *band of the open
  dataset*, 4-connected) scans the raster line by line and holds only the polygons it is
  building and those it finished; regions are whole at once, so no geometry is ever unioned
  (unioning the pieces of regions cut by strips made 4096² px take 397 s, a twentyfold
  growth per fourfold area, on a mask that was mostly landslide). GDAL maps the vertices by
  the raster's transform;
- the statistics (:mod:`slidewatch.inference.regions`): strips of ``strip_rows`` rows are
  labelled and joined across strip borders by a union-find; each region's pixel count and
  probability sum (the pixels of a region are exactly the pixel centres inside its polygon)
  are kept under its first pixel in raster order, which is the top-left corner of its
  polygon's lowest (row, column) vertex: that is how a polygon finds its mean probability.

Each polygon's area is computed after projecting it to the UTM zone of the scene's centre
(metres, locally conformal and close to equal-area; no projection when the scene is in it).
The polygons are held as arrays of vertices (:class:`~slidewatch.inference.rings.Rings`):
reprojections go through pyproj in one vectorised call per CRS, areas by the shoelace
formula, so the stage stays linear in the vertices and holds 16 bytes a vertex.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
from rasterio.crs import CRS
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping, shape

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.inference.cog import PARTIAL_SUFFIX
from slidewatch.inference.regions import LANDSLIDE, STRIP_ROWS, region_stats
from slidewatch.inference.rings import Rings

NODATA = 255
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
        rings = Rings.of(landslide_shapes(ds))
        bar.update(ds.height)
        if not len(rings):
            return Polygons([], 0, 0.0)
        keys = rings.first_pixels(ds.transform, ds.width)
        means = stats.means(keys)
        area = rings.reprojected(ds.crs, scene_utm(ds.crs, tuple(ds.bounds))).areas().tolist()
        kept = sorted(
            (k for k, a in enumerate(area) if a >= min_area_m2), key=lambda k: (-area[k], keys[k])
        )
        dropped = [a for a in area if a < min_area_m2]
        lonlat = rings.reprojected(ds.crs, "EPSG:4326").geojson(kept)
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "id": i,
                "area_m2": round(area[k], 2),
                "mean_probability": round(means[k], 4),
            },
            "id": i,
        }
        for i, (k, geom) in enumerate(zip(kept, lonlat, strict=True), start=1)
    ]
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
