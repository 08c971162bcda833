"""Landslide polygons from the binary raster: areas in local UTM, GeoJSON in EPSG:4326.

The landslide raster is read and polygonised (:func:`rasterio.features.shapes`, 4-connected)
in horizontal strips of at most ``strip_rows`` rows, so memory grows with the scene's width,
not its height. Strips are polygonised in pixel coordinates (column, row), where every vertex
is an exact integer. A piece that does not reach an internal strip border is final as it is;
pieces sharing a length of a border with pieces of the next strip are joined (pieces meeting
only at a corner are not 4-connected and stay apart), and a joined region is unioned (shapely)
once no piece of it reaches the current strip's bottom, so the regions are those of the whole
raster polygonised at once. Only the pieces of still-open regions are held between strips.
Each region is then mapped to the scene's CRS by the raster's transform. Each polygon's area is
computed after projecting it to the UTM zone of the scene's centre (metres, locally
conformal and close to equal-area), and its mean probability is read from the probability
raster under the polygon (pixel centres inside), in one more pass of strips.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import shapely
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform_geom
from rasterio.windows import Window
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


def _row_span(geom: dict[str, Any], inverse: Affine) -> tuple[float, float]:
    minx, miny, maxx, maxy = shape(geom).bounds
    rows = [(inverse * corner)[1] for corner in ((minx, miny), (maxx, maxy))]
    return min(rows), max(rows)


def _mean_probabilities(prob: Any, geoms: list[dict[str, Any]], strip_rows: int) -> list[float]:
    """Mean probability under each polygon (pixel centres inside), in one pass of strips.

    The polygons are disjoint, so rasterising their numbers into each strip and summing the
    probabilities per number (``np.bincount``) replaces one windowed read per polygon.
    """
    n = len(geoms)
    sums, counts = np.zeros(n + 1), np.zeros(n + 1)
    spans = [_row_span(g, ~prob.transform) for g in geoms]
    for row0 in range(0, prob.height, strip_rows):
        rows = min(strip_rows, prob.height - row0)
        shapes_here = [
            (geoms[i], i + 1) for i, (a, b) in enumerate(spans) if a < row0 + rows and b > row0
        ]
        if not shapes_here:
            continue
        window = Window(0, row0, prob.width, rows)
        ids = rasterio.features.rasterize(
            shapes_here, out_shape=(rows, prob.width), fill=0, dtype="int32",
            transform=prob.window_transform(window),
        ).ravel()  # fmt: skip
        values = prob.read(1, window=window).ravel().astype(np.float64)
        sums += np.bincount(ids, weights=values, minlength=n + 1)
        counts += np.bincount(ids, minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts[1:] > 0, sums[1:] / counts[1:], np.nan)
    return [float(m) for m in means]


def _strip_pieces(ds: Any, row0: int, rows: int) -> list[dict[str, Any]]:
    """Landslide polygons of rows ``row0 .. row0 + rows`` in pixel coordinates (col, row)."""
    data = ds.read(1, window=Window(0, row0, ds.width, rows))
    found = rasterio.features.shapes(
        data, mask=data == LANDSLIDE, connectivity=4, transform=Affine.translation(0, row0)
    )
    return [g for g, v in found if v == LANDSLIDE]


def _border_spans(geom: dict[str, Any], row: int) -> list[tuple[float, float]]:
    """Column spans of the exterior ring's edges lying on the row boundary ``row``."""
    ring = geom["coordinates"][0]
    return [
        (min(x0, x1), max(x0, x1))
        for (x0, y0), (x1, y1) in itertools.pairwise(ring)
        if y0 == row and y1 == row
    ]


def _touching(
    above: list[tuple[float, float, int]], below: list[tuple[float, float, int]]
) -> Iterator[tuple[int, int]]:
    """Pairs of owners whose sorted, disjoint spans overlap by more than a point."""
    i = j = 0
    while i < len(above) and j < len(below):
        lo_a, hi_a, a = above[i]
        lo_b, hi_b, b = below[j]
        if min(hi_a, hi_b) > max(lo_a, lo_b):
            yield a, b
        if hi_a <= hi_b:
            i += 1
        else:
            j += 1


def _root(parent: list[int], k: int) -> int:
    """Union-find: the representative of ``k`` (halving the path on the way)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _merged(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One region from pieces joined along strip borders (a single piece as it is)."""
    if len(members) == 1:
        return members
    # The pieces share edges of the borders, so their union is one polygon; simplify(0)
    # drops the collinear vertices left on the borders (exact: coordinates are integers).
    union = shapely.union_all([shape(m) for m in members])
    return [mapping(part.simplify(0)) for part in shapely.get_parts(union)]


def _landslide_regions(ds: Any, strip_rows: int) -> Iterator[dict[str, Any]]:
    """Connected (4-neighbour) landslide regions as GeoJSON in pixel coordinates (col, row).

    Pieces of a strip are joined to the open regions above when they share a length of the
    border (pixels meeting only at a corner are not 4-connected); a region is unioned once,
    when no piece of it reaches the bottom of the current strip. Only the pieces of regions
    still open are held between strips.
    """
    if strip_rows < 1:
        raise ValueError(f"strip_rows must be >= 1, got {strip_rows}")
    # Open regions: their pieces, and the spans of those pieces on the current top border.
    held: list[tuple[list[dict[str, Any]], list[tuple[float, float]]]] = []
    for row0 in range(0, ds.height, strip_rows):
        row1 = min(row0 + strip_rows, ds.height)
        pieces = _strip_pieces(ds, row0, row1 - row0)
        parent = list(range(len(held) + len(pieces)))
        if held:
            above = sorted((lo, hi, k) for k, (_, spans) in enumerate(held) for lo, hi in spans)
            below = sorted(
                (lo, hi, len(held) + k)
                for k, piece in enumerate(pieces)
                for lo, hi in _border_spans(piece, row0)
            )
            for a, b in _touching(above, below):
                parent[_root(parent, a)] = _root(parent, b)
        regions: dict[int, tuple[list[dict[str, Any]], list[tuple[float, float]]]] = {}
        for k in range(len(parent)):
            members, spans = regions.setdefault(_root(parent, k), ([], []))
            if k < len(held):
                members.extend(held[k][0])
            else:
                piece = pieces[k - len(held)]
                members.append(piece)
                if row1 < ds.height:
                    spans.extend(_border_spans(piece, row1))
        held = []
        for members, spans in regions.values():
            if spans:
                held.append((members, spans))
            else:
                yield from _merged(members)


def _to_crs(geom: dict[str, Any], transform: Affine) -> dict[str, Any]:
    """A polygon in pixel coordinates mapped by ``transform`` (as GDAL applies it)."""
    a, b, c, d, e, f = transform[:6]
    rings = [
        [(c + a * x + b * y, f + d * x + e * y) for x, y in ring] for ring in geom["coordinates"]
    ]
    return {"type": "Polygon", "coordinates": rings}


def landslide_polygons(
    landslides: Path,
    probability: Path,
    min_area_m2: float = 0.0,
    *,
    strip_rows: int = STRIP_ROWS,
) -> list[dict[str, Any]]:
    """GeoJSON features (EPSG:4326) of connected landslide regions, largest first.

    Properties: ``area_m2`` (local UTM), ``mean_probability``; regions below
    ``min_area_m2`` are dropped. The raster is read ``strip_rows`` rows at a time.
    """
    return find_polygons(landslides, probability, min_area_m2, strip_rows=strip_rows).features


def find_polygons(
    landslides: Path,
    probability: Path,
    min_area_m2: float = 0.0,
    *,
    strip_rows: int = STRIP_ROWS,
) -> Polygons:
    """:func:`landslide_polygons` with the count and area of the regions dropped."""
    with rasterio.open(landslides) as ds, rasterio.open(probability) as prob:
        geoms = [_to_crs(g, ds.transform) for g in _landslide_regions(ds, strip_rows)]
        if not geoms:
            return Polygons([], 0, 0.0)
        utm = scene_utm(ds.crs, tuple(ds.bounds))
        areas = [shape(g).area for g in transform_geom(ds.crs, utm, geoms)]
        kept = [(a, g) for a, g in zip(areas, geoms, strict=True) if a >= min_area_m2]
        dropped = [a for a in areas if a < min_area_m2]
        means = _mean_probabilities(prob, [g for _, g in kept], strip_rows)
        lonlat = transform_geom(ds.crs, "EPSG:4326", [g for _, g in kept]) if kept else []
    features = [
        {
            "type": "Feature",
            "geometry": geom,
            "properties": {"area_m2": round(area, 2), "mean_probability": round(mean, 4)},
        }
        for (area, _), mean, geom in zip(kept, means, lonlat, strict=True)
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
