"""A fetched stack goes into ``detect`` unchanged: the L4S scale is recognised and cloud
pixels (nodata in the stack) become 255 in the landslide map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.acquisition.sources import SourceConfig
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
        SourceConfig(stac_url=str(catalogue.path)),
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
