"""Mean probability under each polygon: region statistics by strips equal per-polygon masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.transform import from_origin
from rasterio.warp import transform_geom

from slidewatch.inference.polygons import find_polygons, landslide_shapes
from slidewatch.inference.regions import region_stats
from slidewatch.inference.rings import Rings

CRS = "EPSG:32718"
TRANSFORM = from_origin(300000.0, 8600000.0, 10.0, 10.0)


def _write(path: Path, data: np.ndarray) -> Path:
    profile = {
        "driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
        "dtype": str(data.dtype), "crs": CRS, "transform": TRANSFORM,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    return path


def _scene(tmp_path: Path) -> tuple[np.ndarray, np.ndarray, Path, Path]:
    rng = np.random.default_rng(3)
    coarse = rng.normal(size=(10, 8))
    field = np.kron(coarse, np.ones((9, 9)))[:90, :70] + 0.3 * rng.normal(size=(90, 70))
    mask = (field > np.quantile(field, 0.8)).astype(np.uint8)
    mask[10:80, 66] = 1  # one region through every strip border
    prob = rng.random((90, 70)).astype(np.float32)
    return mask, prob, _write(tmp_path / "l.tif", mask), _write(tmp_path / "p.tif", prob)


@pytest.mark.parametrize("strip_rows", [1, 5, 32, 1000])
def test_means_equal_per_polygon_masks(tmp_path: Path, strip_rows: int) -> None:
    mask, prob, lands, probs = _scene(tmp_path)
    found = find_polygons(lands, probs, strip_rows=strip_rows).features
    assert len(found) > 3
    inside_all = 0
    for feature in found:
        geom = transform_geom("EPSG:4326", CRS, feature["geometry"])
        inside = rasterio.features.geometry_mask([geom], prob.shape, TRANSFORM, invert=True)
        inside_all += int(inside.sum())
        expected = float(prob[inside].astype(np.float64).mean())
        assert feature["properties"]["mean_probability"] == pytest.approx(expected, abs=1e-4)
    assert inside_all == int(mask.sum())


@pytest.mark.parametrize("strip_rows", [1, 4, 90])
def test_region_stats_join_strips_and_name_regions_by_first_pixel(
    tmp_path: Path, strip_rows: int
) -> None:
    mask, prob, lands, probs = _scene(tmp_path)
    with rasterio.open(lands) as ds, rasterio.open(probs) as pr:
        stats = region_stats(ds, pr, strip_rows)
        shapes = list(landslide_shapes(ds))
        assert stats.count.sum() == mask.sum()
        assert len(stats.first) == len(shapes)
        for geom in shapes:
            (key,) = Rings.of([geom]).first_pixels(ds.transform, ds.width).tolist()
            row, col = divmod(key, ds.width)
            assert mask[row, col] == 1
            inside = rasterio.features.geometry_mask([geom], mask.shape, TRANSFORM, invert=True)
            first_row = int(np.flatnonzero(inside.any(axis=1))[0])
            assert (row, col) == (first_row, int(np.flatnonzero(inside[first_row])[0]))
            assert stats.mean(key) == pytest.approx(float(prob[inside].astype(np.float64).mean()))


def test_strip_rows_must_be_positive(tmp_path: Path) -> None:
    _, _, lands, probs = _scene(tmp_path)
    with rasterio.open(lands) as ds, rasterio.open(probs) as pr, pytest.raises(ValueError):
        region_stats(ds, pr, 0)
