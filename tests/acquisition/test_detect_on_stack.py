"""A fetched stack goes into ``detect`` unchanged: the L4S scale is recognised and cloud
pixels (nodata in the stack) become 255 in the landslide map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack

from .conftest import Catalogue

RGBN = ("B4", "B3", "B2", "B8")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", len(RGBN), base_width=8)
    spec = ModelSpec(
        "unet", {"base_width": 8}, RGBN, Normalization.identity(RGBN), threshold=0.5, patch_size=32
    )
    return save_model(tmp_path_factory.mktemp("model"), model, spec)


def test_cloud_pixels_become_255_after_detect(
    catalogue: Catalogue, aoi_t1, tiny_model: Path, tmp_path: Path
) -> None:
    from slidewatch.inference.detect import detect

    stack = fetch_stack(
        StacConfig(stac_url=str(catalogue.path)),
        aoi_t1,
        date(2023, 6, 11),
        date(2023, 6, 11),
        tmp_path / "stack.tif",
        bands="rgbn",
    )
    summary = detect(
        stack.path, tiny_model, tmp_path / "out", tile=32, overlap=8, progress=False
    )  # scale=None: the stack's SLIDEWATCH_SCALE tag decides
    with rasterio.open(tmp_path / "out" / "landslides.tif") as ds:
        landslides = ds.read(1)
    cloud = catalogue.cloud[10:50, 10:50]
    assert (landslides[cloud] == 255).all()
    assert np.isin(landslides[~cloud], (0, 1)).all()
    assert summary["scene_area_km2"] == pytest.approx((~cloud).sum() * 100 / 1e6, rel=1e-6)
    assert summary["scene"]["scaled_to_l4s"] is False  # already L4S: not divided again


@pytest.fixture(scope="module")
def all14_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from slidewatch.bands import BAND_NAMES
    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", 14, base_width=8)
    norm = Normalization.identity(BAND_NAMES)
    spec = ModelSpec("unet", {"base_width": 8}, BAND_NAMES, norm, threshold=0.5, patch_size=32)
    return save_model(tmp_path_factory.mktemp("model14"), model, spec)


@pytest.fixture(scope="module")
def l2a_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

    from .conftest import SIDE, plane_dem, utc

    bands, _, _ = area_bands(SIDE, SIDE, seed=5)
    scene = SyntheticScene("S_2023", utc(2023, 6, 1, 15), bands)
    root = tmp_path_factory.mktemp("l2a")
    return write_catalog(root, [scene], plane_dem(SIDE, SIDE), with_b10=False)


def test_detect_refuses_an_all14_model_on_an_l2a_stack(
    l2a_catalogue: Path, aoi_t1, all14_model: Path, tmp_path: Path
) -> None:
    from slidewatch.errors import BandError
    from slidewatch.inference.detect import detect

    day = date(2023, 6, 1)
    config = StacConfig(stac_url=str(l2a_catalogue))
    stack = fetch_stack(config, aoi_t1, day, day, tmp_path / "stack.tif")
    assert "B10" not in stack.bands and len(stack.bands) == 13
    with pytest.raises(BandError, match=r"missing: B10\); B10 .*L2A.*--bands l2a.*--source gee"):
        detect(stack.path, all14_model, tmp_path / "out", tile=32, overlap=8, progress=False)


def test_monitor_add_fetches_the_models_bands_and_refuses_b10_from_l2a(
    l2a_catalogue: Path, catalogue: Catalogue, all14_model: Path, tiny_model: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from slidewatch.bands import BAND_NAMES
    from slidewatch.cli import cli
    from slidewatch.monitoring.registry import Registry

    from .conftest import aoi_from_utm

    bbox = ",".join(f"{v:.7f}" for v in aoi_from_utm(100, 100, 500, 500).bounds)
    home = tmp_path / "home"

    def add(name: str, model: Path, url: Path, *extra: str) -> tuple[int, str]:
        args = ["monitor", "add", name, "--aoi", bbox, "--model", str(model), "--stac-url",
                str(url), "--home", str(home), *extra]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        return result.exit_code, result.output

    code, out = add("l2a", all14_model, l2a_catalogue)
    assert code == 2 and "needs B10" in out and "--bands l2a" in out, out
    code, out = add("rgbn", tiny_model, l2a_catalogue)
    assert code == 0 and "added AOI rgbn" in out, out
    assert add("all14", all14_model, catalogue.path)[0] == 0  # this catalogue serves B10
    assert add("given", tiny_model, catalogue.path, "--bands", "six10m")[0] == 0
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        assert registry.get_aoi("rgbn").source["bands"] == "B4,B3,B2,B8"
        assert registry.get_aoi("all14").source["bands"] == ",".join(BAND_NAMES)
        assert registry.get_aoi("given").source["bands"] == "six10m"
