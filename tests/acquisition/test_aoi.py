"""AOI parsing and validation, UTM zones, and the 10 m grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slidewatch.acquisition.aoi import MAX_AREA_ENV, parse_aoi, utm_epsg, utm_grid, validate_aoi
from slidewatch.errors import AOIError

SQUARE = [[-77.6, -9.4], [-77.59, -9.4], [-77.59, -9.39], [-77.6, -9.39], [-77.6, -9.4]]


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps(data))
    return str(path)


def test_bbox_text_gives_a_polygon_in_the_southern_utm_zone() -> None:
    aoi = parse_aoi("-77.6,-9.4,-77.59,-9.39")
    assert aoi.epsg == 32718
    assert aoi.bounds == pytest.approx((-77.6, -9.4, -77.59, -9.39))
    assert aoi.area_km2 == pytest.approx(1.2, rel=0.05)  # ~1.10 km × 1.10 km


@pytest.mark.parametrize("wrap", ["geometry", "feature", "collection"])
def test_geojson_file_forms(tmp_path: Path, wrap: str) -> None:
    geom = {"type": "Polygon", "coordinates": [SQUARE]}
    data = {
        "geometry": geom,
        "feature": {"type": "Feature", "properties": {}, "geometry": geom},
        "collection": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": geom}],
        },
    }[wrap]
    aoi = parse_aoi(write(tmp_path, data))
    assert aoi.epsg == 32718 and aoi.geometry.geom_type == "Polygon"


def test_northern_hemisphere_zone() -> None:
    assert parse_aoi("91.8,22.3,91.9,22.4").epsg == 32646  # Chittagong
    assert utm_epsg(-0.5, 51.5) == 32630 and utm_epsg(179.9, -1) == 32760


def test_aoi_across_two_zones_takes_the_zone_of_its_centre() -> None:
    # the 6°/12° zone border: most of this AOI lies east of it, in zone 32
    aoi = parse_aoi("5.9,45.0,6.3,45.2")
    assert aoi.epsg == 32632


def test_grid_has_10_m_pixels_edges_on_the_20_m_lattice_and_covers_the_aoi() -> None:
    aoi = parse_aoi("-77.6,-9.4,-77.59,-9.39")
    grid = utm_grid(aoi)
    assert str(grid.crs) == "EPSG:32718"
    a = grid.affine
    assert (a.a, a.e) == (10.0, -10.0) and a.c % 20 == 0 and a.f % 20 == 0
    assert grid.shape.x % 2 == 0 and grid.shape.y % 2 == 0
    minx, miny, maxx, maxy = aoi.projected().bounds
    left, bottom, right, top = grid.boundingbox
    assert left <= minx < left + 20 and right - 20 < maxx <= right
    assert bottom <= miny < bottom + 20 and top - 20 < maxy <= top


def test_grid_of_bounds_already_on_the_lattice_adds_no_pixel() -> None:
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping, shape

    inner = box(215_040, 8_950_020, 216_240, 8_951_040)  # multiples of 20 m
    aoi = validate_aoi(shape(transform_geom("EPSG:32718", "EPSG:4326", mapping(inner))))
    grid = utm_grid(aoi)
    assert tuple(grid.boundingbox) == pytest.approx((215_040, 8_950_020, 216_240, 8_951_040))
    assert (grid.shape.y, grid.shape.x) == (102, 120)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "invalid polygon .*Self-intersection",
        ),
        ({"type": "Point", "coordinates": [0, 0]}, "a Point is not an area"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "LineString is not an area"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[170, 0], [-170, 0], [-170, 1], [170, 1], [170, 0]]],
            },
            "antimeridian",
        ),
        ({"type": "Nonsense"}, "not a GeoJSON geometry"),
    ],
)
def test_bad_geojson_is_refused_clearly(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(AOIError, match=message):
        parse_aoi(write(tmp_path, data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("179.5,0,-179.5,1", "crosses the antimeridian"),
        ("1,1,1,2", "is empty"),
        ("a,b,c,d", "four numbers"),
        ("no/such/file.geojson", "neither a GeoJSON file"),
        ("500000,8000000,510000,8010000", "outside lon -180..180"),
    ],
)
def test_bad_text_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(AOIError, match=message):
        parse_aoi(text)


def test_unreadable_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text("{not json")
    with pytest.raises(AOIError, match=r"bad.geojson: not valid GeoJSON"):
        parse_aoi(str(path))


def test_area_limit_says_how_to_raise_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from slidewatch.application.settings import Settings

    big = "10,40,12,42"  # ~37,000 km²
    with pytest.raises(AOIError, match=rf"larger than the limit of 10,000 km².*{MAX_AREA_ENV}"):
        parse_aoi(big)
    monkeypatch.setenv(MAX_AREA_ENV, "50000")  # read by the settings, not by acquisition
    with pytest.raises(AOIError, match="limit of 10,000 km²"):
        parse_aoi(big)
    assert parse_aoi(big, Settings.read().max_aoi_km2).area_km2 > 10_000
    with pytest.raises(AOIError, match="limit of 1 km²"):
        parse_aoi(big, max_km2=1)


def test_an_aoi_from_its_geojson_is_the_same_value() -> None:
    from slidewatch.acquisition.aoi import AOI

    aoi = parse_aoi("-77.6,-9.6,-77.5,-9.5")
    again = AOI.from_geojson(aoi.to_geojson())
    assert again == aoi and hash(again) == hash(aoi) and again.epsg == 32718
    with pytest.raises(AOIError, match=r"registry row 3: a Point is not an area"):
        AOI.from_geojson({"type": "Point", "coordinates": [0, 0]}, "registry row 3")
