"""Areas of interest: parsing, validation, and the 10 m UTM grid a stack is written on.

An AOI is a lon/lat (EPSG:4326) polygon or multipolygon. Its UTM zone is the zone of its
centroid (an AOI across two zones is projected into the zone holding its centre: UTM
stays accurate to well under a pixel for a few hundred km beyond a zone edge, and one
grid is what a stack needs). AOIs across the antimeridian are refused: split them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from shapely import MultiPolygon, Polygon, box, make_valid
from shapely.geometry import shape
from shapely.validation import explain_validity

from slidewatch.errors import AOIError

if TYPE_CHECKING:
    from odc.geo.geobox import GeoBox

DEFAULT_MAX_AREA_KM2 = 10_000.0
"""Largest AOI accepted by default (100 km × 100 km: ~1.4 GB as an all14 float32 stack); the
home's setting ``SLIDEWATCH_MAX_AOI_KM2`` (``HomeSettings.max_aoi_km2``) changes it for every
edge: ``fetch``, ``monitor add``, ``POST /aois`` and detection jobs."""
MAX_AREA_ENV = "SLIDEWATCH_MAX_AOI_KM2"
"""The setting that raises (or lowers) :data:`DEFAULT_MAX_AREA_KM2`, as messages name it."""


class AreaTooLarge(AOIError):
    """An AOI larger than the area limit (the service answers 413)."""


def antimeridian_error(where: str) -> AOIError:
    """The one explanation of a refused antimeridian-crossing AOI, for every edge."""
    return AOIError(
        f"{where} crosses the antimeridian (180° of longitude), which one UTM grid cannot "
        "hold; split it into two AOIs, one on either side of 180°"
    )


PIXEL_M = 10.0
LATTICE_M = 20.0
"""The stack grid's edges are snapped outwards to multiples of this: Sentinel-2 tiles'
origins are multiples of 20 m (their 60 m grids are 0, 20 or 40 m off multiples of 60 m), so
each 20 m pixel covers a whole 2×2 block of stack pixels (see :mod:`.native`). It depends on
the AOI alone, so every date of an AOI has the same grid."""


@dataclass(frozen=True)
class AOI:
    """A validated area of interest."""

    geometry: Polygon | MultiPolygon
    """The area in lon/lat (EPSG:4326), valid and non-empty."""
    epsg: int
    """EPSG code of the UTM zone of the centroid (326xx north, 327xx south)."""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min lon, min lat, max lon, max lat)``."""
        minx, miny, maxx, maxy = self.geometry.bounds
        return (minx, miny, maxx, maxy)

    @property
    def crs(self) -> str:
        """The UTM CRS as ``"EPSG:326xx"``."""
        return f"EPSG:{self.epsg}"

    def projected(self) -> Polygon | MultiPolygon:
        """The geometry in its UTM zone (metres)."""
        from pyproj import Transformer

        to_utm = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        return shapely.transform(self.geometry, to_utm.transform, interleaved=False)

    @property
    def area_km2(self) -> float:
        """Area in km², measured in the UTM zone."""
        return float(self.projected().area) / 1e6

    def to_geojson(self) -> dict[str, Any]:
        """The lon/lat geometry as a GeoJSON mapping."""
        from shapely.geometry import mapping

        return dict(mapping(self.geometry))

    @classmethod
    def from_geojson(
        cls, geometry: Mapping[str, Any], where: str = "AOI geometry", max_km2: float | None = None
    ) -> AOI:
        """The AOI of a lon/lat GeoJSON geometry (the inverse of :meth:`to_geojson`),
        validated like :func:`parse_aoi`'s; the value can be kept and passed down as it is
        (frozen and hashable)."""
        if not isinstance(geometry, Mapping):
            raise AOIError(f"{where}: not a GeoJSON geometry; give a Polygon")
        return validate_aoi(_geometry_from_geojson(dict(geometry), where), where, max_km2)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the UTM zone holding ``(lon, lat)``."""
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def check_area(aoi: AOI, where: str, limit_km2: float = DEFAULT_MAX_AREA_KM2) -> None:
    """The one area limit and its message: :class:`AreaTooLarge` above ``limit_km2``."""
    if aoi.area_km2 > limit_km2:
        raise AreaTooLarge(
            f"{where}: {aoi.area_km2:,.0f} km² is larger than the limit of {limit_km2:,.0f} km²; "
            f"split it into several AOIs, or raise the limit with {MAX_AREA_ENV}=<km²>"
        )


def _geometry_from_geojson(data: Any, where: str) -> Any:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        features = data.get("features") or []
        if not features:
            raise AOIError(f"{where}: the FeatureCollection has no features; add one polygon")
        geoms = [_geometry_from_geojson(f, where) for f in features]
        polys = [p for g in geoms for p in getattr(g, "geoms", [g])]
        return MultiPolygon(polys) if len(polys) > 1 else polys[0]
    if kind == "Feature":
        if not data.get("geometry"):
            raise AOIError(f"{where}: the Feature has no geometry; give it a polygon")
        return _geometry_from_geojson(data["geometry"], where)
    try:
        return shape(data)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise AOIError(f"{where}: not a GeoJSON geometry ({exc}); give a Polygon") from exc


def _load_json(text: str, where: str) -> Any:
    """JSON text as Python values; AOIError for malformed or absurdly nested text."""

    def constant(name: str) -> Any:
        raise AOIError(f"{where}: {name} is not a coordinate; give lon/lat in degrees")

    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise AOIError(f"{where}: not valid GeoJSON ({exc}); fix the file") from None
    except RecursionError:
        raise AOIError(f"{where}: GeoJSON nested too deeply to be a polygon; fix it") from None


def _finite(values: Any, what: str) -> None:
    import numpy as np

    if not np.isfinite(np.asarray(values, dtype=float)).all():
        raise AOIError(f"{what}: coordinates must be finite numbers (no NaN or infinity); "
                       "give lon/lat in degrees")  # fmt: skip


def _read_text(text: str) -> tuple[Any, str]:
    """(geometry, description) from a bbox string, a GeoJSON file path or inline GeoJSON."""
    stripped = text.strip()
    parts = stripped.split(",")
    if len(parts) == 4 and not stripped.startswith("{"):
        try:
            minx, miny, maxx, maxy = (float(p) for p in parts)
        except ValueError as exc:
            raise AOIError(
                f"AOI {text!r}: a bounding box is four numbers minx,miny,maxx,maxy in lon/lat"
            ) from exc
        _finite([minx, miny, maxx, maxy], f"AOI {text!r}")
        if minx > maxx and minx <= 180 and maxx >= -180:
            raise antimeridian_error(f"AOI {text!r} (minx > maxx)")
        if minx >= maxx or miny >= maxy:
            raise AOIError(f"AOI {text!r} is empty; give minx<maxx and miny<maxy in lon/lat")
        return box(minx, miny, maxx, maxy), f"AOI {stripped}"
    if stripped.startswith("{"):
        data = _load_json(stripped, "AOI (inline GeoJSON)")
        return _geometry_from_geojson(data, "AOI"), "AOI (inline GeoJSON)"
    path = Path(text)
    if not path.is_file():
        raise AOIError(
            f"AOI {text!r} is neither a GeoJSON file nor minx,miny,maxx,maxy; check the path"
        )
    try:
        data = _load_json(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise AOIError(f"{path}: not valid GeoJSON ({exc}); fix the file") from exc
    return _geometry_from_geojson(data, str(path)), str(path)


def parse_aoi(text: str, max_km2: float | None = None) -> AOI:
    """An :class:`AOI` from a GeoJSON file path (Feature, FeatureCollection or geometry),
    inline GeoJSON, or ``minx,miny,maxx,maxy`` in lon/lat.

    Raises :class:`~slidewatch.errors.AOIError` for an empty, invalid (self-intersecting),
    non-polygon or antimeridian-crossing AOI, or one larger than ``max_km2`` (default:
    :data:`DEFAULT_MAX_AREA_KM2`; the edges pass the home's ``max_aoi_km2``).
    """
    geom, where = _read_text(text)
    return validate_aoi(geom, where, max_km2)


def validate_aoi(geom: Any, where: str = "AOI", max_km2: float | None = None) -> AOI:
    """Check a lon/lat shapely geometry and derive its UTM zone (see :func:`parse_aoi`)."""
    if not isinstance(geom, Polygon | MultiPolygon):
        raise AOIError(f"{where}: a {geom.geom_type} is not an area; give a Polygon")
    if geom.is_empty:
        raise AOIError(f"{where}: the polygon is empty; give a polygon with an area")
    _finite(shapely.get_coordinates(geom), where)
    if not geom.is_valid:
        reason = explain_validity(geom)
        fixed = make_valid(geom)
        raise AOIError(
            f"{where}: invalid polygon ({reason}); fix it, e.g. split it where it crosses "
            f"itself (a valid version has {getattr(fixed, 'geom_type', '?')} geometry)"
        )
    if geom.area == 0:
        raise AOIError(f"{where}: the polygon is empty (no area); give a polygon with an area")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise AOIError(
            f"{where}: coordinates outside lon -180..180 / lat -90..90; give lon/lat "
            "(EPSG:4326), and split an AOI crossing the antimeridian in two"
        )
    if maxx - minx > 180:
        raise antimeridian_error(f"{where} (it spans {maxx - minx:.0f}° of longitude)")
    centre = geom.centroid
    aoi = AOI(geometry=geom, epsg=utm_epsg(centre.x, centre.y))
    check_area(aoi, where, DEFAULT_MAX_AREA_KM2 if max_km2 is None else max_km2)
    return aoi


def utm_grid(aoi: AOI, resolution: float = PIXEL_M, lattice: float = LATTICE_M) -> GeoBox:
    """The grid of ``resolution`` pixels covering ``aoi`` in its UTM zone, its edges on
    multiples of ``lattice`` (a multiple of ``resolution``)."""
    from affine import Affine
    from odc.geo.geobox import GeoBox

    minx, miny, maxx, maxy = aoi.projected().bounds
    # The grid covers the AOI to within 1 mm (a round-trip error of 1e-9 m adds no pixels).
    tol = 1e-3
    left, bottom = (math.floor((v + tol) / lattice) * lattice for v in (minx, miny))
    right, top = (math.ceil((v - tol) / lattice) * lattice for v in (maxx, maxy))
    width, height = round((right - left) / resolution), round((top - bottom) / resolution)
    return GeoBox((height, width), Affine(resolution, 0, left, 0, -resolution, top), aoi.crs)
