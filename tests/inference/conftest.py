"""Fixtures for inference tests: small georeferenced scenes and a tiny saved model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from slidewatch.bands import BAND_SETS

RGBN = BAND_SETS["rgbn"]


def write_scene(
    path: Path,
    data: np.ndarray,
    bands: tuple[str, ...] | None = RGBN,
    *,
    crs: str | None = "EPSG:32646",
    nodata: float | None = None,
    tags: dict[str, str] | None = None,
) -> Path:
    """A float32 GeoTIFF (10 m UTM pixels) with band descriptions."""
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": "float32",
        "crs": crs,
        "nodata": nodata,
        "transform": from_origin(400000.0, 2500000.0, 10.0, 10.0),
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data.astype(np.float32))
        if bands:
            ds.descriptions = bands
        if tags:
            ds.update_tags(**tags)
    return path


def scene_array(
    height: int, width: int, count: int = 4, seed: int = 0, scar: bool = True
) -> np.ndarray:
    """Smooth L4S-scale values, with a bright patch (a 'scar') in the middle if ``scar``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.8 + 0.2 * np.sin(yy / 17.0) * np.cos(xx / 23.0)
    data = np.stack([base + 0.05 * rng.standard_normal((height, width)) for _ in range(count)])
    if scar:
        data[:, height // 3 : height // 2, width // 3 : width // 2] += 1.5
    return data.astype(np.float32)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 4-band (B4,B3,B2,B8) unet, base width 8, saved as a model directory."""
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", len(RGBN), base_width=8)
    spec = ModelSpec(
        "unet", {"base_width": 8}, RGBN, Normalization.identity(RGBN), threshold=0.5, patch_size=64
    )
    return save_model(tmp_path_factory.mktemp("model"), model, spec)
