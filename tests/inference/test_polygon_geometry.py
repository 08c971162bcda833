"""The vectorised reprojection and shoelace areas agree with rasterio/GDAL and shapely."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.warp import transform_geom
from shapely.geometry import shape

from slidewatch.inference.polygons import areas, reproject


def _polygons() -> list[dict]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(20):
        x0, y0 = 300000 + rng.uniform(0, 5e4), 8600000 + rng.uniform(0, 5e4)
        w, h = rng.integers(2, 40, size=2) * 10.0
        outer = [(x0, y0), (x0 + w, y0), (x0 + w, y0 - h), (x0, y0 - h), (x0, y0)]
        rings = [outer]
        if w > 40 and h > 40:  # a hole
            rings.append([(x0 + 10, y0 - 10), (x0 + 10, y0 - 20), (x0 + 20, y0 - 20),
                          (x0 + 20, y0 - 10), (x0 + 10, y0 - 10)])  # fmt: skip
        out.append({"type": "Polygon", "coordinates": rings})
    return out


def test_reproject_matches_gdal_and_keeps_the_structure() -> None:
    geoms = _polygons()
    ours = reproject(geoms, "EPSG:32718", "EPSG:4326")
    gdal = transform_geom("EPSG:32718", "EPSG:4326", geoms)
    assert len(ours) == len(gdal) == len(geoms)
    for a, b in zip(ours, gdal, strict=True):
        assert [len(r) for r in a["coordinates"]] == [len(r) for r in b["coordinates"]]
        np.testing.assert_allclose(
            np.concatenate(a["coordinates"]), np.concatenate(b["coordinates"]), atol=1e-9
        )
    assert reproject(geoms, "EPSG:32718", "EPSG:32718") is geoms  # same CRS: untouched


def test_areas_equal_shapely_with_holes() -> None:
    geoms = _polygons()
    assert any(len(g["coordinates"]) > 1 for g in geoms)
    assert areas(geoms) == pytest.approx([shape(g).area for g in geoms], rel=1e-12)
