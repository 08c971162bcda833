"""Real data: the Chittagong tiles mosaicked into one 4-band scene go through ``detect``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.merge import merge
from rio_cogeo.cogeo import cog_validate

from slidewatch.bands import BAND_SETS, raw_to_l4s
from slidewatch.inference.detect import detect
from slidewatch.inference.detection import DetectOptions

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
RGBN = BAND_SETS["rgbn"]


def mosaic(folder: Path, out: Path, dtype: str) -> Path:
    tiles = sorted(folder.glob("*.tif"))
    data, transform = merge(tiles, dtype=dtype)
    with rasterio.open(tiles[0]) as first:
        crs = first.crs
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": dtype,
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "nodata": 0 if dtype == "float32" else None,  # outside the tiles: no data
    }
    with rasterio.open(out, "w", **profile) as ds:
        ds.write(data)
        if data.shape[0] == 4:
            ds.descriptions = ("red", "green", "blue", "nir")
    return out


def train_tiny_model(scene: Path, labels: Path, out: Path, steps: int = 25) -> Path:
    """A 4-band unet (base width 8) trained for a few steps on crops of the mosaic."""
    import torch

    from slidewatch.data.normalization import normalization_from_arrays
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    with rasterio.open(scene) as ds, rasterio.open(labels) as lab:
        image = raw_to_l4s(ds.read().astype(np.float32), RGBN).astype(np.float32)
        target = (lab.read(1) == 2).astype(np.float32)
    norm = normalization_from_arrays(
        "standard", RGBN, mean=image.mean(axis=(1, 2)), std=image.std(axis=(1, 2))
    )
    offset, scale = norm.arrays()
    x_all = (image - offset) / scale
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = build_model("unet", 4, base_width=8)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    rows, cols = np.nonzero(target)
    for _ in range(steps):
        picks = rng.integers(0, len(rows), 4)
        r = np.clip(rows[picks] - 64, 0, image.shape[1] - 128)
        c = np.clip(cols[picks] - 64, 0, image.shape[2] - 128)
        x = torch.from_numpy(
            np.stack([x_all[:, a : a + 128, b : b + 128] for a, b in zip(r, c, strict=True)])
        )
        y = torch.from_numpy(
            np.stack([target[a : a + 128, b : b + 128] for a, b in zip(r, c, strict=True)])
        )
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(x)[:, 0], y, pos_weight=torch.tensor(20.0)
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    spec = ModelSpec("unet", {"base_width": 8}, RGBN, norm, threshold=0.5, patch_size=128)
    return save_model(out, model.eval(), spec)


def test_chittagong_mosaic_to_aligned_cogs(
    shared_data: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))  # later tests keep theirs
    folder = shared_data / "s2-chittagong"
    scene = mosaic(folder / "images", tmp_path / "chittagong.tif", "float32")
    labels = mosaic(folder / "labels", tmp_path / "labels.tif", "uint16")
    model = train_tiny_model(scene, labels, tmp_path / "model")
    out = tmp_path / "out"
    summary = detect(
        scene,
        model,
        out,
        DetectOptions(tile_px=128, overlap_px=32, batch_size=8, scale="l4s", min_area_m2=500),
        progress=False,
    )
    with rasterio.open(scene) as src:
        grid = (src.crs, src.transform, src.width, src.height)
    assert grid[2] > 1000 and grid[3] > 2000  # the whole mosaic
    for name in ("probability.tif", "landslides.tif"):
        valid, errors, _ = cog_validate(str(out / name))
        assert valid, errors
        with rasterio.open(out / name) as ds:
            assert (ds.crs, ds.transform, ds.width, ds.height) == grid
    assert summary.scene.scaled_to_l4s
    assert 60 < summary.scene_area_km2 < 217  # the tiles' footprint inside the mosaic
    with rasterio.open(out / "landslides.tif") as ds:
        assert ds.read(1)[0, 0] == 255  # the mosaic's empty corner is no data
    assert all(
        f["properties"]["area_m2"] >= 500
        for f in __import__("json").loads((out / "landslides.geojson").read_text())["features"]
    )
    assert (out / "quicklook.png").stat().st_size > 10_000
