"""Own GeoTIFF band files as a user converts them: four 10 m bands, no SCL, nodata=0 where
the mosaic has no tile (issue 21, item 8). ``fetch`` counts those pixels unseen, and the
default cloud mask, with nothing to compute one from, is none and says why."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from slidewatch.acquisition.catalog import build_catalog
from slidewatch.acquisition.clouds import CLEAR, NO_CLOUD_INPUTS, NODATA
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.cli import cli
from slidewatch.errors import SourceError
from slidewatch.synthetic.safe import write_band_geotiffs

from .conftest import aoi_from_utm
from .own_imagery import _scene, utc

KEPT = ("B02", "B03", "B04", "B08")
HOLE = (slice(None), slice(0, 20))
"""Tile pixels no source tile covers (0 = the files' nodata): AOI columns 0–9 of 40."""
DAY = date(2021, 6, 1)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own_nodata")
    folder = root / "S2A_MSIL2A_20210601T150000_N0300_R033_T18LTP_20210601T200000"
    for path in write_band_geotiffs(_scene(utc(2021, 6, 1), "03.00"), folder, "L2A"):
        if not any(f"_{band}_" in path.name for band in KEPT):
            path.unlink()
            continue
        with rasterio.open(path) as ds:
            data, profile = ds.read(1), ds.profile
        data[HOLE] = 0
        with rasterio.open(path, "w", **(profile | {"nodata": 0})) as dst:
            dst.write(data, 1)
    return build_catalog([folder], root / "cat").path


def _fetch(catalog: Path, out: Path, cloud_mask: str = "auto"):  # type: ignore[no-untyped-def]
    config = StacConfig(stac_url=f"file://{catalog}", cloud_mask=cloud_mask, bands="B4,B3,B2,B8")
    return fetch_stack(config, aoi_from_utm(100, 100, 500, 500), DAY, DAY, out)


def test_declared_nodata_is_the_stacks_no_data(catalog: Path, tmp_path: Path) -> None:
    item = next(catalog.parent.glob("sentinel-2-l2a/*/*.json"))
    assert json.loads(item.read_text())["assets"]["B04"]["raster:bands"][0]["nodata"] == 0
    result = _fetch(catalog, tmp_path / "s.tif", cloud_mask="none")
    with rasterio.open(result.path) as ds, rasterio.open(result.mask_path) as ms:
        data, mask = ds.read(), ms.read(1)
    hole = np.zeros((40, 40), bool)
    hole[:, :10] = True
    assert (mask[hole] == NODATA).all() and (mask[~hole] == CLEAR).all()
    assert np.isnan(data[:, hole]).all() and np.isfinite(data[:, ~hole]).all()
    assert result.clear_fraction == pytest.approx(0.75)


def test_auto_cloud_mask_without_scl_or_s2cloudless_bands_is_none_and_says_why(
    catalog: Path, tmp_path: Path
) -> None:
    result = _fetch(catalog, tmp_path / "s.tif")
    assert result.cloud_mask == "none" and result.cloud_note == NO_CLOUD_INPUTS
    run = CliRunner().invoke(
        cli,
        ["fetch", "--stac-url", f"file://{catalog}", "--aoi", _bbox(), "--start", "2021-06-01",
         "--end", "2021-06-01", "--bands", "B4,B3,B2,B8", "--out", str(tmp_path / "c.tif")],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert f"cloud mask: none ({NO_CLOUD_INPUTS})" in run.output


def test_s2cloudless_without_its_bands_says_what_to_do(catalog: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        _fetch(catalog, tmp_path / "s.tif", cloud_mask="s2cloudless")
    message = str(err.value)
    assert "cloud mask s2cloudless needs band(s) B1, B5" in message
    assert "--cloud-mask none" in message and "choose --bands" not in message
    assert not (tmp_path / "s.tif").exists()


def _bbox() -> str:
    return ",".join(f"{v:.6f}" for v in aoi_from_utm(100, 100, 500, 500).bounds)
