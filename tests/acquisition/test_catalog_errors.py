"""``catalog build`` refuses what is not a product, incomplete or damaged, naming the path
and the fix — and a refused build leaves an existing catalogue as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from slidewatch.acquisition.catalog import CatalogInputError, build_catalog
from slidewatch.cli import cli
from slidewatch.synthetic import ORIGIN
from slidewatch.synthetic.safe import write_band_geotiffs, write_safe, zip_safe

from .own_imagery import _scene, utc


@pytest.fixture(scope="module")
def safe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_safe(_scene(utc(2021, 6, 1), "03.01"), tmp_path_factory.mktemp("p"))


def _refused(paths: list[Path], out: Path, *fragments: str) -> None:
    with pytest.raises(CatalogInputError) as caught:
        build_catalog(paths, out)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_a_folder_that_is_not_a_product(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    _refused([tmp_path / "notes"], tmp_path / "cat", str(tmp_path / "notes"),
             "neither a Sentinel-2 product", ".SAFE folders or .zip")  # fmt: skip


def test_a_safe_folder_without_its_metadata(tmp_path: Path, safe: Path) -> None:
    broken = Path(shutil.copytree(safe, tmp_path / safe.name))
    (broken / "manifest.safe").unlink()
    (broken / "MTD_MSIL2A.xml").unlink()
    _refused([broken], tmp_path / "cat", str(broken), "incomplete", "download it again")


def test_a_product_missing_its_tile_metadata(tmp_path: Path, safe: Path) -> None:
    broken = Path(shutil.copytree(safe, tmp_path / safe.name))
    next(broken.glob("GRANULE/*/MTD_TL.xml")).unlink()
    _refused([broken], tmp_path / "cat", str(broken), "MTD_TL.xml is missing", "download it again")


def test_a_product_missing_a_band_file(tmp_path: Path, safe: Path) -> None:
    broken = Path(shutil.copytree(safe, tmp_path / safe.name))
    next(broken.glob("GRANULE/*/IMG_DATA/R20m/*_B11_20m.jp2")).unlink()
    _refused([broken], tmp_path / "cat", str(broken), "_B11_20m.jp2", "is missing", "download")


def test_a_truncated_zip(tmp_path: Path, safe: Path) -> None:
    whole = zip_safe(safe, tmp_path / f"{safe.name}.zip")
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])  # an interrupted download
    _refused([whole], tmp_path / "cat", str(whole), "not a readable zip", "truncated",
             "download it again")  # fmt: skip


def test_a_zip_without_a_product(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("holiday/a.txt", "x")
    _refused([path], tmp_path / "cat", str(path), "no .SAFE product folder", "one .SAFE folder")


def test_band_files_in_mixed_crss(tmp_path: Path) -> None:
    files = write_band_geotiffs(_scene(utc(2021, 6, 1), None), tmp_path / "tiles", "L2A")
    moved = next(p for p in files if "_B03_" in p.name)
    with rasterio.open(moved) as ds:
        data, profile = ds.read(), ds.profile
    profile |= {"crs": "EPSG:32618", "transform": from_origin(ORIGIN[0], 1_040_000, 10, 10)}
    with rasterio.open(moved, "w", **profile) as dst:
        dst.write(data)
    _refused([tmp_path / "tiles"], tmp_path / "cat", "mixed CRSs", moved.name, "EPSG:32618",
             "reproject")  # fmt: skip


def test_a_multiband_geotiff(tmp_path: Path) -> None:
    path = tmp_path / "scene_20210601T150000.tif"
    profile = {"driver": "GTiff", "dtype": "uint16", "count": 4, "height": 8, "width": 8,
               "crs": "EPSG:32718", "transform": from_origin(*ORIGIN, 10, 10)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((4, 8, 8), np.uint16))
    _refused([path], tmp_path / "cat", str(path), "4 bands in one file", "gdal_translate -b")


def test_a_band_file_whose_band_nothing_says(tmp_path: Path) -> None:
    path = tmp_path / "tiles" / "mystery_20210601T150000.tif"
    path.parent.mkdir()
    profile = {"driver": "GTiff", "dtype": "uint16", "count": 1, "height": 8, "width": 8,
               "crs": "EPSG:32718", "transform": from_origin(*ORIGIN, 10, 10)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 8, 8), np.uint16))
    _refused([path], tmp_path / "cat", str(path), "rename it with the band")


def test_an_undated_scene(tmp_path: Path) -> None:
    files = write_band_geotiffs(_scene(utc(2021, 6, 1), None), tmp_path / "x", "L1C")
    for f in files:  # names without the sensing time
        f.rename(tmp_path / "x" / f.name.split("_", 2)[2])
    _refused([tmp_path / "x"], tmp_path / "cat", "no sensing time", "--datetime")


def test_out_must_be_a_catalogue_or_empty(tmp_path: Path, safe: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.pdf").write_text("x")
    _refused([safe], tmp_path / "busy", "holds other files", "empty or new folder")


def test_a_refused_build_leaves_the_catalogue_as_it_was(tmp_path: Path, safe: Path) -> None:
    catalog = build_catalog([safe], tmp_path / "cat").path
    before = {p: p.read_bytes() for p in sorted((tmp_path / "cat").rglob("*")) if p.is_file()}
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CatalogInputError):
        build_catalog([safe, tmp_path / "bad.zip"], tmp_path / "cat")
    after = {p: p.read_bytes() for p in sorted((tmp_path / "cat").rglob("*")) if p.is_file()}
    assert after == before and catalog.exists()


def test_the_cli_says_it_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        cli, ["catalog", "build", str(tmp_path / "empty"), "--out", str(tmp_path / "cat")]
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {tmp_path / 'empty'}: neither a Sentinel-2 product")
    assert "Traceback" not in result.output
