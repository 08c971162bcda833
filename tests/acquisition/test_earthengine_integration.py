"""Earth Engine for real: runs only with credentials (``-m gee`` and SLIDEWATCH_GEE_PROJECT).

Not run in CI or on machines without Earth Engine access; the offline tests replace the
service at ``ee.data`` (test_earthengine.py).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import rasterio

pytestmark = pytest.mark.gee

PROJECT = os.environ.get("SLIDEWATCH_GEE_PROJECT", "")


@pytest.fixture(autouse=True)
def _network_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    if not PROJECT:
        pytest.skip("set SLIDEWATCH_GEE_PROJECT (and run `earthengine authenticate`) to run")
    import socket

    monkeypatch.setattr(socket.socket, "connect", socket.socket.connect)  # reach Google


def test_fetch_a_small_area_from_earth_engine(tmp_path: Path) -> None:
    from slidewatch.acquisition.aoi import parse_aoi
    from slidewatch.acquisition.options import EarthEngineConfig
    from slidewatch.acquisition.stack import fetch_stack

    config = EarthEngineConfig(
        collection="COPERNICUS/S2_HARMONIZED",
        dem_collection="COPERNICUS/DEM/GLO30",
        gee_project=PROJECT,
        max_cloud=60,
    )
    aoi = parse_aoi("91.80,22.30,91.82,22.32")  # Chittagong hills
    result = fetch_stack(config, aoi, date(2023, 1, 1), date(2023, 2, 28), tmp_path / "s.tif")
    with rasterio.open(result.path) as ds:
        assert ds.count == 14 and ds.crs.to_epsg() == 32646
    assert result.clear_fraction > 0.5
