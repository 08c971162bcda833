"""Real Sentinel-2 pixels (xarray-spatial's sample: six bands, UTM 19S, digital numbers)
served as a static STAC item and fetched: the stack is the same numbers in the L4S scale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.transform import Affine
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping, shape

from slidewatch.acquisition.aoi import validate_aoi
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.bands import BAND_NAMES, L4S_SCALE, looks_raw

NAMES = {"Blue": "B02", "Green": "B03", "Red": "B04", "NIR": "B08", "SWIR1": "B11", "SWIR2": "B12"}
CRS = "EPSG:32719"


@pytest.fixture(scope="module")
def real_bands() -> dict[str, object]:
    datasets = pytest.importorskip("xrspatial.datasets")
    try:
        return dict(datasets.get_data("sentinel-2"))
    except Exception as exc:  # the sample ships with xarray-spatial; scipy reads it
        pytest.skip(f"xarray-spatial's Sentinel-2 sample is unavailable: {exc}")


def write_item(root: Path, real: dict[str, object]) -> Path:
    catalog = pystac.Catalog("real", "xarray-spatial Sentinel-2 sample")
    collection = pystac.Collection(
        "sentinel-2-l1c",
        "sample",
        pystac.Extent(
            pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
            pystac.TemporalExtent([[datetime(2015, 6, 23, tzinfo=UTC), None]]),
        ),
    )
    footprint = transform_geom(CRS, "EPSG:4326", mapping(box(600000, 4696020, 606000, 4700020)))
    item = pystac.Item(
        "xrspatial-s2",
        footprint,
        list(shape(footprint).bounds),
        datetime(2020, 1, 1, tzinfo=UTC),
        {"eo:cloud_cover": 0.0},
    )
    for name, key in NAMES.items():
        band = real[name]
        transform = Affine(*band.attrs["transform"][:6])
        path = root / f"{key}.tif"
        with rasterio.open(
            path,
            "w",
            driver="COG",
            width=band.shape[1],
            height=band.shape[0],
            count=1,
            dtype="uint16",
            crs=CRS,
            transform=transform,
            nodata=0,
        ) as ds:
            ds.write(np.asarray(band.values).astype(np.uint16), 1)
        item.add_asset(
            key,
            pystac.Asset(
                str(path),
                media_type=pystac.MediaType.COG,
                extra_fields={"raster:bands": [{"nodata": 0}]},
            ),
        )
    collection.add_item(item)
    catalog.add_child(collection)
    catalog.normalize_and_save(str(root), pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"


def test_real_values_keep_their_meaning(real_bands: dict[str, object], tmp_path: Path) -> None:
    catalog = write_item(tmp_path, real_bands)
    inner = box(600100, 4698100, 602900, 4699900)
    aoi = validate_aoi(shape(transform_geom(CRS, "EPSG:4326", mapping(inner))))
    assert aoi.epsg == 32719
    # the sample's processing baseline is not known: say so rather than guess
    config = StacConfig(
        stac_url=str(catalog),
        collection="sentinel-2-l1c",
        dn_offset="0",
        cloud_mask="none",
        bands="B2,B3,B4,B8,B11,B12",
    )
    result = fetch_stack(config, aoi, date(2020, 1, 1), date(2020, 1, 1), tmp_path / "s.tif")
    with rasterio.open(result.path) as ds:
        stack = ds.read()
        assert ds.transform.c == 600100 and ds.transform.f == 4699900
    rows, cols = slice(12, 192), slice(10, 290)  # the AOI in pixels (top edge 4,700,020 m)
    for i, (name, key) in enumerate(NAMES.items()):
        raw = np.asarray(real_bands[name].values)
        if name.startswith("SWIR"):  # 20 m: each 10 m pixel takes its parent
            raw = np.repeat(np.repeat(raw, 2, axis=0), 2, axis=1)
        scale = L4S_SCALE[BAND_NAMES.index(f"B{int(key[1:])}")]
        np.testing.assert_allclose(stack[i] * scale, raw[rows, cols], rtol=1e-5, err_msg=name)
    medians = {b: float(np.median(stack[i])) for i, b in enumerate(result.bands)}
    assert not looks_raw(medians)  # detect --scale auto will take it as L4S
    assert 0.5 < medians["B4"] < 5 and 0.5 < medians["B8"] < 5
    raw_medians = {b: m * L4S_SCALE[BAND_NAMES.index(b)] for b, m in medians.items()}
    assert looks_raw(raw_medians)
