"""The scene around a patch made by build-patches: read, band-matched, or refused with a reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from slidewatch.bands import raw_to_l4s
from slidewatch.data.build import build_patches
from slidewatch.data.hdf5 import read_image
from slidewatch.labeling.context import Context, NoContext, scene_context
from slidewatch.labeling.workspace import Workspace

SCENE_BANDS = ("B8", "B4", "B3", "B2")  # not L4S order: the match must find each band


def write_scene(path: Path, seed: int = 0) -> np.ndarray:
    """A 4-band 96×128 raw-valued GeoTIFF (UTM, 10 m) with band descriptions; returns data."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(300, 3000, (4, 96, 128)).astype(np.float32)
    transform = from_origin(400000.0, 2500000.0, 10.0, 10.0)
    profile = {"driver": "GTiff", "width": 128, "height": 96, "count": 4, "dtype": "float32",
               "crs": "EPSG:32646", "transform": transform}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        ds.descriptions = SCENE_BANDS
    return data


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, np.ndarray]:
    scene = tmp_path / "scene.tif"
    data = write_scene(scene)
    build_patches(scene, None, tmp_path / "patches", size=32, progress=False)
    return tmp_path / "patches", data


def test_context_is_the_scene_around_the_patch(built: tuple[Path, np.ndarray]) -> None:
    root, data = built
    key = "img/image_6"  # row 1, column 1 of the 3×4 grid: origin (32, 32)
    image = read_image(root / f"{key}.h5")
    bands = ("B2", "B3", "B4", "B8")
    ctx = scene_context(root, key, image, bands, margin_px=16)
    assert isinstance(ctx, Context), ctx
    assert ctx.image.shape == (64, 64, 4) and ctx.margin_px == 16
    assert np.allclose(ctx.image[16:48, 16:48], image, rtol=1e-6)
    order = [SCENE_BANDS.index(b) for b in bands]
    around = raw_to_l4s(data[order][:, 16:80, 16:80], bands, axis=0)
    assert np.allclose(np.moveaxis(ctx.image, -1, 0), around, rtol=1e-5)


def test_context_past_the_scene_edge_is_nan(built: tuple[Path, np.ndarray]) -> None:
    root, _ = built
    image = read_image(root / "img" / "image_1.h5")
    ctx = scene_context(root, "img/image_1", image, ("B2", "B3", "B4", "B8"), margin_px=8)
    assert isinstance(ctx, Context)
    assert np.isnan(ctx.image[:8]).all() and np.isfinite(ctx.image[8:, 8:]).all()


def test_no_context_when_the_scene_is_gone_or_changed(
    built: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    root, _ = built
    image = read_image(root / "img" / "image_2.h5")
    bands = ("B2", "B3", "B4", "B8")
    shutil.move(tmp_path / "scene.tif", tmp_path / "moved.tif")
    gone = scene_context(root, "img/image_2", image, bands, 16)
    assert isinstance(gone, NoContext) and "not available" in gone.reason
    write_scene(tmp_path / "scene.tif", seed=9)  # another scene under the same name
    changed = scene_context(root, "img/image_2", image, bands, 16)
    assert isinstance(changed, NoContext) and "does not hold this patch" in changed.reason
    (root / "index.geojson").unlink()
    alone = scene_context(root, "img/image_2", image, bands, 16)
    assert isinstance(alone, NoContext) and "index.geojson" in alone.reason


def test_the_page_gets_the_context_view(built: tuple[Path, np.ndarray]) -> None:
    root, _ = built
    ws = Workspace(root)
    described = ws.describe("img/image_6")
    assert described["context"]["available"] is True and described["context"]["margin_px"] == 32
    assert [c["name"] for c in described["combinations"]] == ["true-colour", "false-colour", "ndvi"]
    view = ws.view("img/image_6", "true-colour", 2, 98, with_context=True)
    patch_only = ws.view("img/image_6", "true-colour", 2, 98, with_context=False)
    assert view.shape == (96, 96, 3) and patch_only.shape == (32, 32, 3)
    # the stretch comes from the patch, so the patch looks the same inside its context
    assert np.abs(view[32:64, 32:64].astype(int) - patch_only.astype(int)).max() <= 1
