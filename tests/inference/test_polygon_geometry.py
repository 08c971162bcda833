"""Polygons as arrays (Rings): reprojection, areas and first pixels against GDAL, shapely and
the pixels themselves."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin
from rasterio.warp import transform_geom
from shapely.geometry import shape

from slidewatch.inference.rings import CHUNK, Rings


def _polygons(n: int = 20) -> list[dict]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        x0, y0 = 300000 + rng.uniform(0, 5e4), 8600000 + rng.uniform(0, 5e4)
        w, h = rng.integers(2, 40, size=2) * 10.0
        outer = [(x0, y0), (x0 + w, y0), (x0 + w, y0 - h), (x0, y0 - h), (x0, y0)]
        rings = [outer]
        if w > 40 and h > 40:  # one or two holes
            for dx in (10, 30)[: 1 + int(w > 60)]:
                rings.append([(x0 + dx, y0 - 10), (x0 + dx, y0 - 20), (x0 + dx + 10, y0 - 20),
                              (x0 + dx + 10, y0 - 10), (x0 + dx, y0 - 10)])  # fmt: skip
        out.append({"type": "Polygon", "coordinates": rings})
    return out


def test_round_trip_over_chunks_keeps_every_vertex() -> None:
    geoms = _polygons(CHUNK + 7)  # more than one chunk
    rings = Rings.of(iter(geoms))
    assert len(rings) == len(geoms)
    back = rings.geojson(range(len(geoms)))
    assert [g["coordinates"] for g in back] == [g["coordinates"] for g in geoms]
    assert rings.geojson([3, 1])[0] == back[3]


def test_reprojection_matches_gdal() -> None:
    geoms = _polygons()
    ours = Rings.of(geoms).reprojected("EPSG:32718", "EPSG:4326").geojson(range(len(geoms)))
    gdal = transform_geom("EPSG:32718", "EPSG:4326", geoms)
    for a, b in zip(ours, gdal, strict=True):
        assert [len(r) for r in a["coordinates"]] == [len(r) for r in b["coordinates"]]
        np.testing.assert_allclose(
            np.concatenate(a["coordinates"]), np.concatenate(b["coordinates"]), atol=1e-9
        )
    same = Rings.of(geoms)
    assert same.reprojected("EPSG:32718", "EPSG:32718") is same


def test_areas_equal_shapely_with_holes() -> None:
    geoms = _polygons()
    assert any(len(g["coordinates"]) > 2 for g in geoms)
    expected = [shape(g).area for g in geoms]
    assert Rings.of(geoms).areas().tolist() == pytest.approx(expected, rel=1e-12)


def test_first_pixel_is_the_top_rows_leftmost_even_at_the_right_edge() -> None:
    transform = from_origin(1000.0, 2000.0, 10.0, 10.0)
    width = 5

    def square(row: int, col0: int, col1: int) -> dict:
        x0, x1, y0, y1 = 1000 + 10 * col0, 1000 + 10 * col1, 2000 - 10 * row, 1990 - 10 * row
        return {"coordinates": [[(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)]]}

    # rows 2-3 of a region spanning the last column (its vertices reach column 5 = width)
    l_shape = {"coordinates": [[(1040, 1980), (1040, 1960), (1030, 1960), (1030, 1970),
                                (1050, 1970), (1050, 1980), (1040, 1980)]]}  # fmt: skip
    rings = Rings.of([square(0, 4, 5), square(3, 1, 3), l_shape])
    assert rings.first_pixels(transform, width).tolist() == [4, 3 * 5 + 1, 2 * 5 + 4]
