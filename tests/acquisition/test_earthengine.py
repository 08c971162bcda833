"""The Earth Engine source with the service replaced at one seam (``ee.data``, via the
client's own ``ee.apitestcase``): expressions, request splitting, date rule, a full fetch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from slidewatch.acquisition.earthengine.requests import (
    FILL,
    MAX_REQUEST_BYTES,
    is_harmonized,
    request_chunks,
    request_grid,
    scene_from_properties,
)
from slidewatch.acquisition.options import EarthEngineConfig
from slidewatch.bands import BAND_NAMES, L4S_SCALE

from .conftest import aoi_from_utm

ee = pytest.importorskip("ee")


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


SCENES = [
    {
        "system:index": "20210601T150000_20210601T150000_T18LTP",
        "system:time_start": ms(2021, 6, 1, 15),
        "MGRS_TILE": "18LTP",
        "PROCESSING_BASELINE": "03.01",
        "CLOUDY_PIXEL_PERCENTAGE": 2.0,
    },
    {
        "system:index": "20230601T150000_20230601T150000_T18LTP",
        "system:time_start": ms(2023, 6, 1, 15),
        "MGRS_TILE": "18LTP",
        "PROCESSING_BASELINE": "05.09",
        "CLOUDY_PIXEL_PERCENTAGE": 3.0,
    },
]


class FakeEarthEngine:
    """computeValue answers the scene list; computePixels answers values that are a known
    function of band and position (raw DN, +1000 after 2022-01-25 unless harmonized)."""

    def __init__(self, harmonized: bool) -> None:
        self.harmonized = harmonized
        self.pixel_requests: list[dict[str, Any]] = []
        self.values: list[Any] = []

    def compute_value(self, expression: Any) -> Any:
        self.values.append(expression)
        return SCENES

    def compute_pixels(self, params: dict[str, Any]) -> np.ndarray:
        self.pixel_requests.append(params)
        grid = params["grid"]
        h, w = grid["dimensions"]["height"], grid["dimensions"]["width"]
        x0 = grid["affineTransform"]["translateX"]
        text = json.dumps(ee.serializer.encode(params["expression"]))
        names = [
            n for n in (*[f"B{i}" for i in range(1, 13)], "B8A", "CLOUDPROB") if f'"{n}"' in text
        ]
        if '"dem"' in text:
            names = ["dem"]
        later = "20230601" in text and not self.harmonized
        out = np.zeros((h, w), dtype=[(n, "<f4") for n in names])
        xx = x0 + 10 * np.arange(w)[None, :] + np.zeros((h, 1))
        for i, n in enumerate(names):
            if n == "dem":
                out[n] = 1000.0 + 0.01 * (xx - 215000)
            elif n == "CLOUDPROB":
                out[n] = np.where((xx - 215000) < 200, 0.9, 0.05)
            else:
                out[n] = 500.0 + 10 * i + 0.1 * ((xx - 215000) % 97) + (1000.0 if later else 0)
        out["dem" if "dem" in names else names[0]][0, 0] = FILL  # one masked pixel per request
        return out


@pytest.fixture
def fake_ee(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEarthEngine]:
    from ee.apitestcase import ApiTestCase

    case = ApiTestCase()
    case.setUp()  # initialises ee offline with the shipped algorithm list
    fake = FakeEarthEngine(harmonized=False)
    monkeypatch.setattr(ee.data, "computeValue", fake.compute_value)
    monkeypatch.setattr(ee.data, "computePixels", fake.compute_pixels, raising=False)
    try:
        yield fake
    finally:
        case.tearDown()


def test_request_chunks_stay_under_the_limits() -> None:
    rows, cols = request_chunks(5000, 7000, 17, chunk_px=4096)
    assert sum(rows) == 5000 and sum(cols) == 7000
    assert max(rows) * max(cols) * 17 * 4 <= MAX_REQUEST_BYTES
    assert request_chunks(100, 100, 3, chunk_px=64) == ((64, 36), (64, 36))
    grid = request_grid(
        "EPSG:32718", __import__("affine").Affine(10, 0, 1000, 0, -10, 5000), 2, 3, 4, 5
    )
    assert (
        grid["affineTransform"]["translateX"] == 1030
        and grid["affineTransform"]["translateY"] == 4980
    )
    assert grid["dimensions"] == {"width": 5, "height": 4} and grid["crsCode"] == "EPSG:32718"


def test_date_rule_and_harmonized_collections() -> None:
    assert is_harmonized("COPERNICUS/S2_HARMONIZED") and not is_harmonized("COPERNICUS/S2")
    raw = [scene_from_properties(p, "COPERNICUS/S2") for p in SCENES]
    assert [s.dn_offset for s in raw] == [0.0, 1000.0]
    harmonized = [scene_from_properties(p, "COPERNICUS/S2_SR_HARMONIZED") for p in SCENES]
    assert [s.dn_offset for s in harmonized] == [0.0, 0.0]
    assert scene_from_properties(SCENES[1], "COPERNICUS/S2", "0").dn_offset == 0.0


def test_expressions_select_the_scenes_bands_and_probability(fake_ee: FakeEarthEngine) -> None:
    from slidewatch.acquisition.earthengine.source import acquisition_image, dem_image

    image = acquisition_image("COPERNICUS/S2", ["ID1", "ID2"], ["B4", "B8A", "CLOUDPROB"])
    text = json.dumps(ee.serializer.encode(image))
    for part in (
        '"ID1"',
        '"ID2"',
        '"B4"',
        '"B8A"',
        "COPERNICUS/S2_CLOUD_PROBABILITY",
        '"CLOUDPROB"',
    ):
        assert part in text
    dem = json.dumps(ee.serializer.encode(dem_image("COPERNICUS/DEM/GLO30")))
    assert '"DEM"' in dem and "bilinear" in dem


def test_asset_keys_name_the_collections_bands(fake_ee: FakeEarthEngine) -> None:
    """``--asset-key B4=red`` on Earth Engine: the collection's band ``red`` read as B4."""
    from slidewatch.acquisition.earthengine.source import acquisition_image

    image = acquisition_image("users/me/s2", ["ID1"], ["B4", "B8"], {"B4": "red"})
    (select,) = [
        node["functionInvocationValue"]["arguments"]
        for node in ee.serializer.encode(image)["values"].values()
        if node.get("functionInvocationValue", {}).get("functionName") == "Image.select"
    ]
    selected = select["bandSelectors"]["arrayValue"]["values"]
    renamed = select["newNames"]["arrayValue"]["values"]
    assert selected[0] == {"constantValue": "red"} and renamed[0] == {"constantValue": "B4"}
    assert selected[1] == renamed[1]  # B8 as it is


def test_fetch_from_earth_engine_with_a_fake_service(
    fake_ee: FakeEarthEngine, tmp_path: Path
) -> None:
    from slidewatch.acquisition.stack import fetch_stack

    config = EarthEngineConfig(
        collection="COPERNICUS/S2",
        dem_collection="COPERNICUS/DEM/GLO30",
        bands="B2,B4,dem",
    )
    aoi = aoi_from_utm(0, 0, 700, 500)  # 70×50 px: two request columns at chunk 64
    stacks = []
    for year in (2021, 2023):
        out = tmp_path / f"{year}.tif"
        result = fetch_stack(config, aoi, date(year, 6, 1), date(year, 6, 1), out, chunk_px=64)
        assert result.cloud_mask == "probability" and "GLO30" in (result.dem_source or "")
        with rasterio.open(out) as ds:
            stacks.append(ds.read())
            assert ds.descriptions == ("B2", "B4", "dem")
    a, b = stacks
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, equal_nan=True)  # the +1000 of 2023 removed exactly once
    # cloud probability 0.9 on the first 20 columns → nodata there, values elsewhere
    assert np.isnan(a[:, :, :20]).all() and np.isfinite(a[:, 1:, 21:64]).all()
    assert np.isnan(a[:, 0, 64]).all()  # the masked pixel of the second request column
    xx = 215000 + 10 * np.arange(70)  # the fake gives B2 (first in its list) 500 + x term
    expected_b2 = (500.0 + 0.1 * ((xx - 215000) % 97)) / L4S_SCALE[BAND_NAMES.index("B2")]
    np.testing.assert_allclose(a[0, 3, 21:], expected_b2[21:], rtol=1e-6)
    widths = {r["grid"]["dimensions"]["width"] for r in fake_ee.pixel_requests}
    assert widths == {64, 6, 8}  # 70 px of bands, 72 px of DEM (one pixel of padding each side)
    assert all(r["fileFormat"] == "NUMPY_NDARRAY" for r in fake_ee.pixel_requests)
