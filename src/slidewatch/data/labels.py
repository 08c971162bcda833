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
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from slidewatch.errors import DatasetError, RasterError
from slidewatch.scene import Grid, RasterWindows, on_grid, open_rasters, read_padded

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
    scene: Any,
    workdir: Path | None = None,
    landslide_value: int | None = 1,
    reproject: bool = False,
) -> Iterator[LabelReader]:
    """Open label rasters or polygon files as a :data:`LabelReader` on ``scene``'s grid.

    ``scene`` is anything with ``crs``, ``transform``, ``height`` and ``width`` (a
    :class:`slidewatch.scene.Scene`). A label raster on another grid is an error, or with
    ``reproject`` is resampled onto the scene's grid with nearest neighbour (class values
    stay classes). ``landslide_value`` None: the labels must hold only 0 and 1 (see
    :func:`decide_landslide_value`). ``workdir`` is unused (mosaics are read in place).
    """
    kinds = {is_vector(Path(p)) for p in paths}
    if len(kinds) > 1:
        raise RasterError("labels mix rasters and polygon files; give only one kind")
    if kinds == {True}:
        yield polygon_reader([Path(p) for p in paths], scene)
        return
    with contextlib.ExitStack() as stack:
        ds = stack.enter_context(open_rasters([Path(p) for p in paths], what="labels"))
        if reproject:
            grid = Grid(scene.crs, scene.transform, scene.height, scene.width)
            ds = on_grid(ds, grid, Resampling.nearest, stack)
        name = Path(paths[0]) if len(paths) == 1 else Path(f"{paths[0]} (+{len(paths) - 1} tiles)")
        check_same_grid(ds, scene, name)
        value = decide_landslide_value(ds, landslide_value, name)
        windows = RasterWindows(ds, indexes=[1])

        def read(row: int, col: int, size: int) -> np.ndarray:
            data, valid = read_padded(windows, row, col, size)
            return ((data[0] == value) & valid).astype(np.uint8)

        yield read


def label_values(ds: Any, rows_per_read: int = 1024) -> dict[int, int]:
    """Pixel count of every value of a label raster's first band (nodata excluded)."""
    counts: dict[int, int] = {}
    for row in range(0, ds.height, rows_per_read):
        window = Window(0, row, ds.width, min(rows_per_read, ds.height - row))
        block = ds.read(1, window=window, masked=True)
        values, n = np.unique(np.ma.compressed(block), return_counts=True)
        for v, c in zip(values.tolist(), n.tolist(), strict=True):
            counts[int(v)] = counts.get(int(v), 0) + int(c)
    return dict(sorted(counts.items()))


def decide_landslide_value(ds: Any, landslide_value: int | None, name: Path) -> int:
    """``landslide_value``, or 1 when None and the labels hold only 0 and 1.

    Labels with other classes (the Chittagong export: 2 = landslide, 1 = drawn as not
    landslide) are ambiguous: DatasetError listing each value with its pixel count.
    """
    if landslide_value is not None:
        return landslide_value
    counts = label_values(ds)
    if set(counts) <= {0, 1}:
        return 1
    listed = ", ".join(f"{v} ({n:,} px)" for v, n in counts.items())
    raise DatasetError(
        f"labels {name} hold the values {listed}, not only 0 and 1; say which value "
        "means landslide with --landslide-value (e.g. --landslide-value 2); every other "
        "value is background"
    )


def check_same_grid(labels: Any, scene: Any, name: Path) -> None:
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


def polygon_reader(paths: list[Path], scene: Any) -> LabelReader:
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


def reader_with_scene_extent(read: LabelReader, scene: Any) -> LabelReader:
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
