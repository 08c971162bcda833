"""Landslide labels on a scene's grid: a class raster on the same grid, or polygons.

Both kinds become a function ``(row, col, size) -> uint8 size×size mask`` (1 = landslide)
over the scene's pixel grid. Raster labels must share the scene's CRS, transform and shape
(several label files are mosaicked like the scene); pixels equal to ``landslide_value`` are
landslides, everything else (including nodata) background. Polygons (GeoJSON, GeoPackage,
Shapefile) are reprojected to the scene's CRS and every polygon is a landslide; each window
is rasterised on its own with :func:`rasterio.features.rasterize`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from slidewatch.data.scene import open_scene, read_padded
from slidewatch.errors import RasterError

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
"""Label files with these suffixes are read as polygons; anything else as a raster."""

LabelReader = Callable[[int, int, int], np.ndarray]
"""``(row, col, size) -> uint8 size×size`` landslide mask (1 = landslide) on the scene grid."""


def is_vector(path: Path) -> bool:
    """Whether a label file holds polygons (by its suffix)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


@contextmanager
def open_labels(
    paths: Sequence[Path],
    scene: DatasetReader,
    workdir: Path,
    landslide_value: int = 1,
    reproject: bool = False,
) -> Iterator[LabelReader]:
    """Open label rasters or polygon files as a :data:`LabelReader` on ``scene``'s grid.

    A label raster on another grid is an error, or with ``reproject`` is warped onto the
    scene's grid with nearest-neighbour resampling (class values stay classes).
    """
    kinds = {is_vector(Path(p)) for p in paths}
    if len(kinds) > 1:
        raise RasterError("labels mix rasters and polygon files; give only one kind")
    if kinds == {True}:
        yield polygon_reader([Path(p) for p in paths], scene)
        return
    with contextlib.ExitStack() as stack:
        ds = stack.enter_context(open_scene([Path(p) for p in paths], workdir, what="labels"))
        if reproject:
            ds = stack.enter_context(on_scene_grid(ds, scene))
        check_same_grid(ds, scene, Path(paths[0]) if len(paths) == 1 else Path("label mosaic"))

        def read(row: int, col: int, size: int) -> np.ndarray:
            data, valid = read_padded(ds, row, col, size, indexes=[1])
            return ((data[0] == landslide_value) & valid).astype(np.uint8)

        yield read


def on_scene_grid(labels: DatasetReader, scene: DatasetReader) -> WarpedVRT:
    """A nearest-neighbour view of ``labels`` on ``scene``'s CRS, transform and shape."""
    return WarpedVRT(
        labels, crs=scene.crs, transform=scene.transform, width=scene.width,
        height=scene.height, resampling=Resampling.nearest,
    )  # fmt: skip


def check_same_grid(labels: DatasetReader, scene: DatasetReader, name: Path) -> None:
    """Raise RasterError unless the label raster has the scene's CRS, transform and shape."""
    problems = []
    if labels.crs != scene.crs:
        problems.append(f"CRS {labels.crs} vs {scene.crs}")
    if (labels.height, labels.width) != (scene.height, scene.width):
        problems.append(f"shape {labels.height}×{labels.width} vs {scene.height}×{scene.width}")
    tolerance = 1e-3 * min(abs(scene.transform.a), abs(scene.transform.e))
    if not labels.transform.almost_equals(scene.transform, precision=tolerance):
        problems.append(f"transform {tuple(labels.transform)[:6]} vs {tuple(scene.transform)[:6]}")
    if problems:
        raise RasterError(
            f"labels {name} are not on the scene's grid ({'; '.join(problems)}); pass "
            "--reproject-labels to resample them (nearest), or give polygons instead"
        )


def polygon_reader(paths: list[Path], scene: DatasetReader) -> LabelReader:
    """A label reader that rasterises the polygons of ``paths`` window by window."""
    import shapely
    from rasterio.features import rasterize

    geoms = [g for p in paths for g in read_polygons(p, scene.crs)]
    tree = shapely.STRtree(geoms)

    def read(row: int, col: int, size: int) -> np.ndarray:
        transform = window_transform(Window(col, row, size, size), scene.transform)
        x0, y0 = transform.c, transform.f
        x1, y1 = x0 + transform.a * size, y0 + transform.e * size  # north-up grids
        hits = tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if len(hits) == 0:
            return np.zeros((size, size), dtype=np.uint8)
        shapes = [(geoms[i], 1) for i in hits]
        return rasterize(shapes, out_shape=(size, size), transform=transform, dtype="uint8")

    return reader_with_scene_extent(read, scene)


def reader_with_scene_extent(read: LabelReader, scene: DatasetReader) -> LabelReader:
    """Zero a polygon mask outside the scene (polygons may reach past its edge)."""

    def clipped(row: int, col: int, size: int) -> np.ndarray:
        mask = read(row, col, size)
        mask[max(0, scene.height - row) :, :] = 0
        mask[:, max(0, scene.width - col) :] = 0
        return mask

    return clipped


def read_polygons(path: Path, dst_crs: CRS) -> list[Any]:
    """The polygons of a vector file as shapely geometries in ``dst_crs``."""
    import shapely.geometry
    from rasterio.warp import transform_geom

    if not Path(path).exists():
        raise RasterError(f"labels {path}: file not found; check the path")
    features, src_crs = (
        _geojson_features(path)
        if path.suffix.lower() in (".geojson", ".json")
        else _fiona_features(path)
    )
    geoms = []
    for geometry in features:
        if geometry and geometry.get("type") in ("Polygon", "MultiPolygon"):
            geom = transform_geom(src_crs, dst_crs, geometry) if src_crs != dst_crs else geometry
            geoms.append(shapely.geometry.shape(geom))
    if not geoms:
        raise RasterError(
            f"labels {path} hold no polygons; draw landslides as Polygon or MultiPolygon features"
        )
    return geoms


def _geojson_features(path: Path) -> tuple[list[Any], CRS]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise RasterError(
            f"labels {path}: not readable GeoJSON ({exc}); fix or re-export it"
        ) from None
    if not isinstance(doc, dict):
        raise RasterError(f"labels {path}: not a GeoJSON object; give a FeatureCollection")
    # RFC 7946 GeoJSON is lon/lat; older files name their CRS in a "crs" member.
    name = (doc.get("crs") or {}).get("properties", {}).get("name", "EPSG:4326")
    try:
        crs = CRS.from_user_input(name)
    except CRSError:
        raise RasterError(
            f"labels {path}: unknown CRS {name!r}; store the polygons in lon/lat"
        ) from None
    if doc.get("type") == "FeatureCollection":
        return [f.get("geometry") for f in doc.get("features", [])], crs
    if doc.get("type") == "Feature":
        return [doc.get("geometry")], crs
    return [doc], crs


def _fiona_features(path: Path) -> tuple[list[Any], CRS]:
    try:
        import fiona
    except ModuleNotFoundError:
        raise RasterError(
            f"labels {path}: reading GeoPackage/Shapefile needs fiona; "
            "install it with: pip install 'slidewatch[gpkg]' (or convert the labels to GeoJSON)"
        ) from None
    try:
        with fiona.open(path) as src:
            crs = CRS.from_user_input(src.crs.to_wkt() if src.crs else "EPSG:4326")
            return [dict(f["geometry"].__geo_interface__) for f in src if f["geometry"]], crs
    except fiona.errors.FionaError as exc:
        raise RasterError(
            f"labels {path}: not a readable vector file ({exc}); re-export it"
        ) from None
