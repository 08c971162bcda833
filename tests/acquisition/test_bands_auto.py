"""``--bands auto`` (the default): all14 where the collection serves every band, the 13 of
``l2a`` where it has no B10 (L2A), said and recorded; B10 refused clearly downstream."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import rasterio
from click.testing import CliRunner

from slidewatch.acquisition.options import EarthEngineConfig, StacConfig
from slidewatch.acquisition.served import BandChoice, check_model_bands, choose_bands
from slidewatch.acquisition.sources import SceneInfo
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.bands import BAND_NAMES, BAND_SETS, resolve_bands
from slidewatch.cli import cli
from slidewatch.errors import ConfigError, SourceError
from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

from .conftest import SIDE, aoi_from_utm, plane_dem, utc

DAY = date(2023, 6, 1)
L2A_13 = tuple(b for b in BAND_NAMES if b != "B10")


def _catalogue(root: Path, **kw: object) -> Path:
    bands, _, _ = area_bands(SIDE, SIDE, seed=5)
    scene = SyntheticScene("S_2023", utc(2023, 6, 1, 15), bands)
    return write_catalog(root, [scene], plane_dem(SIDE, SIDE), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def l2a_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like Earth Search's sentinel-2-l2a: SCL, no B10."""
    return _catalogue(tmp_path_factory.mktemp("l2a"), with_b10=False)


@pytest.fixture(scope="module")
def l1c_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like an L1C collection: every band, no SCL (masked by s2cloudless)."""
    return _catalogue(tmp_path_factory.mktemp("l1c"), collection="sentinel-2-l1c", with_scl=False)


def test_l2a_set_is_all14_without_b10() -> None:
    assert resolve_bands("l2a") == L2A_13 == BAND_SETS["l2a"]
    assert StacConfig().bands == "auto"


def test_auto_on_l2a_writes_13_bands_and_records_why(l2a_catalogue: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.tif"
    result = fetch_stack(
        StacConfig(stac_url=str(l2a_catalogue)), aoi_from_utm(100, 100, 500, 500), DAY, DAY, out
    )
    assert result.bands == L2A_13
    assert (
        "B10" in result.band_note
        and "L2A" in result.band_note
        and "--source gee" in result.band_note
    )
    with rasterio.open(out) as ds:
        assert ds.descriptions == L2A_13
        assert ds.tags()["BANDS_REQUESTED"] == "auto"
        assert ds.tags()["BANDS_NOTE"] == result.band_note
    props = json.loads(out.with_suffix(".json").read_text())["properties"]
    assert props["slidewatch:bands_note"] == result.band_note
    assert props["slidewatch:bands"] == list(L2A_13)


def test_auto_on_l1c_writes_all14_silently(l1c_catalogue: Path, tmp_path: Path) -> None:
    config = StacConfig(stac_url=str(l1c_catalogue), collection="sentinel-2-l1c")
    result = fetch_stack(config, aoi_from_utm(100, 100, 500, 500), DAY, DAY, tmp_path / "s.tif")
    assert result.bands == BAND_NAMES and result.band_note == ""
    assert result.cloud_mask == "s2cloudless"


def test_cli_says_the_note_once_on_stderr(l2a_catalogue: Path, tmp_path: Path) -> None:
    bbox = ",".join(f"{v:.7f}" for v in aoi_from_utm(100, 100, 500, 500).bounds)
    args = ["fetch", "--aoi", bbox, "--start", "2023-06-01", "--end", "2023-06-01",
            "--stac-url", str(l2a_catalogue), "--out", str(tmp_path / "s.tif")]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Note: bands auto: writing 13 bands")
    assert "(13 bands" in result.stdout
    explicit = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "t.tif"), "--bands", "all14"])
    assert explicit.exit_code == 2
    assert "no asset for band B10" in explicit.output and "L2A" in explicit.output


def _scene(served: tuple[str, ...] | None) -> SceneInfo:
    return SceneInfo("X", utc(2023, 6, 1), "T", "05.09", 0.0, 0.0, "", served=served)


def test_choice_from_the_items_or_the_earth_engine_collection() -> None:
    every = tuple(b for b in BAND_NAMES[:12])
    stac = StacConfig(collection="whatever")
    assert choose_bands(stac, [_scene(every)]) == BandChoice(BAND_NAMES)
    assert choose_bands(stac, [_scene(every), _scene(L2A_13[:12])]).names == L2A_13
    # another band missing: all14, so that the asset table's error names the item and keys
    assert (
        choose_bands(stac, [_scene(tuple(b for b in every if b not in ("B5", "B10")))]).names
        == BAND_NAMES
    )
    assert choose_bands(StacConfig(bands="six10m"), [_scene(())]).names == BAND_SETS["six10m"]
    sr = EarthEngineConfig(collection="COPERNICUS/S2_SR_HARMONIZED")
    assert choose_bands(sr, [_scene(None)]).names == L2A_13
    toa = EarthEngineConfig(collection="COPERNICUS/S2_HARMONIZED")
    assert choose_bands(toa, [_scene(None)]).note == ""


def test_another_missing_band_is_an_error_naming_the_item(tmp_path: Path) -> None:
    import pystac

    cat = _catalogue(tmp_path / "cat", with_b10=False)
    catalog = pystac.Catalog.from_file(str(cat))
    for item in catalog.get_items(recursive=True):
        item.assets.pop("B05", None)
    catalog.save()
    with pytest.raises(SourceError, match=r"item S_2023 has no asset for band B5 .*B04, B06"):
        fetch_stack(
            StacConfig(stac_url=str(cat)),
            aoi_from_utm(100, 100, 500, 500),
            DAY,
            DAY,
            tmp_path / "s.tif",
        )


def test_model_needing_b10_refused_without_network(
    l2a_catalogue: Path, l1c_catalogue: Path
) -> None:
    all14 = BAND_NAMES
    with pytest.raises(ConfigError, match=r"needs B10 .*'sentinel-2-l2a' serves none.*--bands l2a"):
        check_model_bands(StacConfig(), all14, "m")  # Earth Search, by the collection's name
    with pytest.raises(ConfigError, match="B10"):
        check_model_bands(StacConfig(stac_url=str(l2a_catalogue)), all14, "m")  # its items
    check_model_bands(
        StacConfig(stac_url=str(l1c_catalogue), collection="sentinel-2-l1c"), all14, "m"
    )
    check_model_bands(StacConfig(), L2A_13, "m")
    check_model_bands(StacConfig(stac_url="http://127.0.0.1:9/", collection="mine"), all14, "m")
