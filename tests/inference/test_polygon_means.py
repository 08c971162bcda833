"""Mean probability under each polygon: one rasterising pass equals per-polygon masking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.transform import from_origin

from slidewatch.inference.polygons import _landslide_regions, _mean_probabilities, _to_crs


def _write(path: Path, data: np.ndarray) -> Path:
    profile = {
        "driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
        "dtype": str(data.dtype), "crs": "EPSG:32718",
        "transform": from_origin(300000.0, 8600000.0, 10.0, 10.0),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    return path


@pytest.mark.parametrize("strip_rows", [5, 32, 1000])
def test_means_equal_per_polygon_masks(tmp_path: Path, strip_rows: int) -> None:
    rng = np.random.default_rng(3)
    coarse = rng.normal(size=(10, 8))
    field = np.kron(coarse, np.ones((9, 9)))[:90, :70] + 0.3 * rng.normal(size=(90, 70))
    mask = (field > np.quantile(field, 0.8)).astype(np.uint8)
    prob = rng.random((90, 70)).astype(np.float32)
    lands = _write(tmp_path / "l.tif", mask)
    probs = _write(tmp_path / "p.tif", prob)
    with rasterio.open(lands) as ds, rasterio.open(probs) as pr:
        geoms = [_to_crs(g, ds.transform) for g in _landslide_regions(ds, 1000)]
        got = _mean_probabilities(pr, geoms, strip_rows)
        transform = ds.transform
    assert len(geoms) > 3
    for geom, mean in zip(geoms, got, strict=True):
        inside = rasterio.features.geometry_mask([geom], prob.shape, transform, invert=True)
        assert mean == pytest.approx(float(prob[inside].astype(np.float64).mean()), abs=1e-9)
    assert sum(
        rasterio.features.geometry_mask([g], prob.shape, transform, invert=True).sum()
        for g in geoms
    ) == int(mask.sum())
