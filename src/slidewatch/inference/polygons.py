"""Landslide polygons from the binary raster: areas in local UTM, GeoJSON in EPSG:4326.

Polygons come from :func:`rasterio.features.shapes` reading the band through GDAL (which
polygonises line by line, so the raster is never held in memory). Each polygon's area is
computed after projecting it to the UTM zone of the scene's centre (metres, locally
conformal and close to equal-area), and its mean probability is read from the probability
raster under the polygon.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
from rasterio.crs import CRS
from rasterio.warp import transform_geom
from rasterio.windows import Window, from_bounds
from shapely.geometry import box, mapping, shape

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.inference.cog import PARTIAL_SUFFIX

LANDSLIDE = 1
NODATA = 255


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


def _mean_under(prob: Any, geom: dict[str, Any]) -> float:
    bounds = shape(geom).bounds
    window = from_bounds(*bounds, transform=prob.transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, prob.width, prob.height))
    values = prob.read(1, window=window)
    inside = rasterio.features.geometry_mask(
        [geom], values.shape, prob.window_transform(window), invert=True
    )
    picked = values[inside]
    return float(picked.mean()) if picked.size else float("nan")


def landslide_polygons(
    landslides: Path, probability: Path, min_area_m2: float = 0.0
) -> list[dict[str, Any]]:
    """GeoJSON features (EPSG:4326) of connected landslide regions, largest first.

    Properties: ``area_m2`` (local UTM), ``mean_probability``; regions below
    ``min_area_m2`` are dropped.
    """
    with rasterio.open(landslides) as ds, rasterio.open(probability) as prob:
        band = rasterio.band(ds, 1)
        geoms = [g for g, v in rasterio.features.shapes(band, mask=band) if v == LANDSLIDE]
        if not geoms:
            return []
        utm = scene_utm(ds.crs, tuple(ds.bounds))
        areas = [shape(g).area for g in transform_geom(ds.crs, utm, geoms)]
        kept = [(a, g) for a, g in zip(areas, geoms, strict=True) if a >= min_area_m2]
        means = [_mean_under(prob, g) for _, g in kept]
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
    return features


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
