"""``catalog build``: products a user has (SAFE folders and zips, L2A and L1C, before and
after baseline 04.00; GeoTIFF band files; a DEM) become a static catalogue that ``fetch``
reads as it is, and the values it writes are the products' own numbers, offset removed
where the baseline adds it, in the L4S scale."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from slidewatch.acquisition.catalog import GeoTiffOptions, build_catalog
from slidewatch.acquisition.clouds import CLEAR, CLOUD
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.cli import cli

from .conftest import aoi_from_utm
from .own_imagery import CLOUD as CLOUD_BLOCK
from .own_imagery import Product, expected_l4s, make_products, write_dem

ROWS = COLS = slice(10, 50)
"""The stack of the AOI below in the tile's pixels."""


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Product]:
    return make_products(tmp_path_factory.mktemp("own"))


@pytest.fixture(scope="module")
def catalog(products: dict[str, Product], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One catalogue of everything: the GeoTIFFs of each baseline added in their own build
    (one --processing-baseline cannot serve both)."""
    root = tmp_path_factory.mktemp("catalog")
    dem = write_dem(root.parent / "dem" / "dem_30m.tif")
    safes = [p.given for k, p in products.items() if not k.startswith("tif_")]
    build_catalog(safes, root / "cat", dems=[dem])
    build_catalog([products["tif_l2a_2023"].given], root / "cat")
    result = build_catalog([products["tif_l1c_2021"].given], root / "cat")
    assert result.collections == {"sentinel-2-l2a": 3, "sentinel-2-l1c": 3, "cop-dem-glo-30": 1}
    return result.path


def _items(catalog: Path) -> dict[str, dict]:
    return {
        p.parent.parent.name + "/" + p.stem: json.loads(p.read_text())
        for p in catalog.parent.glob("*/*/*.json")
    }


def test_items_carry_what_the_products_say(catalog: Path) -> None:
    items = _items(catalog)
    l2a = items["sentinel-2-l2a/S2A_T18LTP_20230601T150000_L2A"]
    props = l2a["properties"]
    assert props["s2:processing_baseline"] == "05.09"
    assert props["eo:cloud_cover"] == pytest.approx(100 * 400 / 3600, abs=1e-4)
    assert props["proj:code"] == "EPSG:32718" and props["platform"] == "sentinel-2a"
    red = l2a["assets"]["red"]
    assert red["eo:bands"][0]["name"] == "B04"
    assert red["raster:bands"][0]["offset"] == -0.1 and red["raster:bands"][0]["scale"] == 1e-4
    assert red["proj:shape"] == [60, 60] and l2a["assets"]["rededge1"]["proj:shape"] == [30, 30]
    assert red["href"].endswith("_B04_10m.jp2") and Path(red["href"]).is_absolute()
    assert "scl" in l2a["assets"] and "cirrus" not in l2a["assets"]
    l1c = items["sentinel-2-l1c/S2A_T18LTP_20230601T150000_L1C"]
    assert l1c["assets"]["cirrus"]["raster:bands"][0]["offset"] == -0.1  # RADIO_ADD_OFFSET
    assert l1c["assets"]["red"]["href"].startswith("zip:///")  # read inside the zip
    old = items["sentinel-2-l1c/S2A_T18LTP_20210601T150000_L1C"]
    assert old["assets"]["red"]["raster:bands"][0]["offset"] == 0
    tif = items["sentinel-2-l2a/T18LTP_20230701T150000"]
    assert tif["properties"]["s2:processing_baseline"] == "05.09"  # the folder's name
    assert tif["properties"]["eo:cloud_cover"] == 0.0  # from its SCL file
    assert tif["assets"]["B04"]["raster:bands"][0]["offset"] == pytest.approx(-0.1)
    assert tif["assets"]["B11"]["proj:transform"][0] == 20.0
    dem = items["cop-dem-glo-30/dem_30m"]
    assert list(dem["assets"]) == ["data"]


@pytest.mark.parametrize(
    "name", ["l2a_2023", "l2a_2021", "l1c_2023", "l1c_2021", "tif_l2a_2023", "tif_l1c_2021"]
)
def test_fetch_writes_the_products_numbers_minus_the_offset_in_l4s_scale(
    name: str, products: dict[str, Product], catalog: Path, tmp_path: Path
) -> None:
    product = products[name]
    config = StacConfig(stac_url=f"file://{catalog}", collection=product.collection)
    day = date.fromisoformat(product.day)
    result = fetch_stack(config, aoi_from_utm(100, 100, 500, 500), day, day, tmp_path / "s.tif")
    assert len(result.scene_ids) == 1
    with rasterio.open(result.path) as ds, rasterio.open(result.mask_path) as ms:
        data, names, mask = ds.read(), ds.descriptions, ms.read(1)
    clear = mask == CLEAR
    assert clear.mean() >= 0.75  # l2a_2023 has a 20×20 px cloud in the AOI
    for i, band in enumerate(names):
        if band in ("slope", "dem"):
            continue
        want = expected_l4s(product, band, ROWS, COLS)
        np.testing.assert_allclose(data[i][clear], want[clear], rtol=1e-6, err_msg=band)
    assert ("B10" in names) == product.collection.endswith("l1c")
    assert "dem_30m" in (result.dem_source or "")
    assert np.isfinite(data[names.index("dem")][clear]).all()
    removed = "1000 DN removed" if product.offset_dn else "none removed"
    assert removed in result.offsets_removed[0]


def test_the_scl_of_an_l2a_product_masks_its_cloud(
    products: dict[str, Product], catalog: Path, tmp_path: Path
) -> None:
    config = StacConfig(stac_url=f"file://{catalog}")
    day = date(2023, 6, 1)
    result = fetch_stack(config, aoi_from_utm(100, 100, 500, 500), day, day, tmp_path / "c.tif")
    assert result.cloud_mask == "scl"
    cloud = np.zeros((60, 60), bool)
    cloud[CLOUD_BLOCK] = True
    with rasterio.open(result.mask_path) as ms, rasterio.open(result.path) as ds:
        mask, data = ms.read(1), ds.read(1)
    assert (mask[cloud[ROWS, COLS]] == CLOUD).all() and (mask[~cloud[ROWS, COLS]] == CLEAR).all()
    assert np.isnan(data[cloud[ROWS, COLS]]).all()


def test_a_new_download_is_added_and_a_repeated_one_replaced(
    products: dict[str, Product], tmp_path: Path
) -> None:
    first = build_catalog([products["l2a_2023"].given], tmp_path / "cat")
    again = build_catalog(
        [products["l2a_2023"].given, products["l2a_2021"].given], tmp_path / "cat"
    )
    assert [i.replaced for i in first.items] == [False]
    assert [(i.id, i.replaced) for i in again.items] == [
        ("S2A_T18LTP_20230601T150000_L2A", True),
        ("S2A_T18LTP_20210601T150000_L2A", False),
    ]
    assert again.collections == {"sentinel-2-l2a": 2}
    assert not list((tmp_path / "cat").glob(".catalog-*"))  # the staging folder is gone


def test_monitoring_finds_a_product_added_later(
    products: dict[str, Product], tmp_path: Path
) -> None:
    from slidewatch.monitoring import imagery

    dem = write_dem(tmp_path / "dem.tif")
    catalog = build_catalog([products["l2a_2021"].given], tmp_path / "cat", dems=[dem]).path
    source = {"stac_url": f"file://{catalog}"}
    target = imagery.Target.parse(source, aoi_from_utm(100, 100, 500, 500).to_geojson())
    window = (date(2021, 1, 1), date(2023, 12, 31))
    assert [f.date for f in imagery.search(target, *window)] == ["2021-06-01"]
    build_catalog([products["l2a_2023"].given], tmp_path / "cat")  # downloaded later
    assert [f.date for f in imagery.search(target, *window)] == ["2021-06-01", "2023-06-01"]


def test_geotiffs_after_2022_need_their_baseline(tmp_path: Path) -> None:
    from slidewatch.synthetic.safe import write_band_geotiffs

    from .own_imagery import _scene, utc

    folder = tmp_path / "tiles"
    write_band_geotiffs(_scene(utc(2023, 8, 1), "05.09"), folder, "L2A")
    with pytest.raises(ValueError, match="--processing-baseline"):
        build_catalog([folder], tmp_path / "cat")
    result = build_catalog(
        [folder], tmp_path / "cat", geotiff=GeoTiffOptions(processing_baseline="05.09")
    )
    assert result.items[0].offset_dn == 1000.0


def test_cli_builds_and_says_how_to_fetch(products: dict[str, Product], tmp_path: Path) -> None:
    out = tmp_path / "cat"
    dem = write_dem(tmp_path / "dem.tif")
    given = [str(products[name].given) for name in ("l1c_2023", "l2a_2023")]
    args = ["catalog", "build", *given, "--dem", str(dem), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("added sentinel-2-l1c/S2A_T18LTP_20230601T150000_L1C (2023-06-01")
    assert "baseline 04.00, offset 1000 DN, cloud 0.0%" in lines[0]
    assert "baseline 05.09, offset 1000 DN, cloud 11.1%, SCL)" in lines[2]
    assert f"wrote {out / 'catalog.json'} (" in result.output
    assert f"slidewatch fetch --stac-url file://{out / 'catalog.json'} --aoi" in result.output
    assert "--collection sentinel-2-l1c" in result.output
