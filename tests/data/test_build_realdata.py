"""build_patches on the real Chittagong tiles (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.bands import raw_to_l4s
from slidewatch.data.build import build_patches
from slidewatch.data.hdf5 import read_bands, read_image, read_mask

pytestmark = pytest.mark.realdata

TILES = [f"{i:012d}" for i in range(4)]  # a 2×2 block of neighbouring, half-overlapping tiles


@pytest.fixture(scope="module")
def chittagong(shared_data: Path) -> Path:
    folder = shared_data / "s2-chittagong"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


def place_tiles(folder: Path, sub: str, names: list[str]) -> tuple[np.ndarray, rasterio.Affine]:
    """Mosaic tiles by their pixel offsets from the world files (independently of merge)."""
    metas = []
    for name in names:
        with rasterio.open(folder / sub / f"{name}.tif") as ds:
            metas.append((ds.transform, ds.read()))
    res_x, res_y = metas[0][0].a, -metas[0][0].e
    left = min(t.c for t, _ in metas)
    top = max(t.f for t, _ in metas)
    offsets = [(round((top - t.f) / res_y), round((t.c - left) / res_x)) for t, _ in metas]
    h = max(r + a.shape[1] for (r, _), (_, a) in zip(offsets, metas, strict=True))
    w = max(c + a.shape[2] for (_, c), (_, a) in zip(offsets, metas, strict=True))
    out = np.zeros((metas[0][1].shape[0], h, w), dtype=metas[0][1].dtype)
    for (r, c), (_, a) in zip(offsets, metas, strict=True):
        out[:, r : r + a.shape[1], c : c + a.shape[2]] = a
    return out, metas[0][0]


def test_one_tile(chittagong: Path, tmp_path: Path) -> None:
    res = build_patches(
        chittagong / "images" / f"{TILES[3]}.tif",
        chittagong / "labels" / f"{TILES[3]}.tif",
        tmp_path / "one",
        band_order="B4,B3,B2,B8",
        landslide_value=2,
        progress=False,
    )
    assert res.n_patches == 4 and res.scale == "l4s" and res.crs == "EPSG:4326"
    with rasterio.open(chittagong / "images" / f"{TILES[3]}.tif") as ds:
        raw = ds.read()
    with rasterio.open(chittagong / "labels" / f"{TILES[3]}.tif") as ds:
        labels = ds.read(1)
    assert res.landslide_pixels == int((labels == 2).sum())
    first = res.out / "img" / "image_1.h5"
    assert read_bands(first) == ("B2", "B3", "B4", "B8")
    expected = raw_to_l4s(raw[[2, 1, 0, 3], :128, :128], ("B2", "B3", "B4", "B8"), axis=0)
    np.testing.assert_allclose(read_image(first), np.moveaxis(expected, 0, -1), rtol=1e-6)


def test_mosaic_of_four_tiles(chittagong: Path, tmp_path: Path) -> None:
    res = build_patches(
        [chittagong / "images" / f"{t}.tif" for t in TILES],
        [chittagong / "labels" / f"{t}.tif" for t in TILES],
        tmp_path / "four",
        band_order="B4,B3,B2,B8",
        landslide_value=2,
        progress=False,
    )
    labels, transform = place_tiles(chittagong, "labels", TILES)
    images, _ = place_tiles(chittagong, "images", TILES)
    assert labels.shape == (1, 384, 384) and images.shape == (4, 384, 384)
    # The exporter fills outside its area with 0 in every band: those pixels are nodata.
    valid = (images != 0).any(axis=0)
    expected_windows = [
        (r, c) for r in (0, 128, 256) for c in (0, 128, 256)
        if valid[r : r + 128, c : c + 128].mean() >= 0.9
    ]  # fmt: skip
    assert res.n_patches == len(expected_windows) > 0
    index = json.loads(res.index.read_text())
    assert [
        (f["properties"]["row_off"], f["properties"]["col_off"]) for f in index["features"]
    ] == (expected_windows)
    total = 0
    for feature in index["features"]:
        p = feature["properties"]
        r, c = p["row_off"], p["col_off"]
        expected = (labels[0, r : r + 128, c : c + 128] == 2) & valid[r : r + 128, c : c + 128]
        np.testing.assert_array_equal(read_mask(res.out / p["mask"]), expected)
        total += int(expected.sum())
        west, _, _, north = p["lonlat_bounds"]
        assert west == pytest.approx(transform.c + c * transform.a, abs=1e-9)
        assert north == pytest.approx(transform.f + r * transform.e, abs=1e-9)
    assert res.landslide_pixels == total and total > 0


def test_whole_area_keeps_every_landslide_pixel(chittagong: Path, tmp_path: Path) -> None:
    names = sorted(p.stem for p in (chittagong / "labels").glob("*.tif"))
    res = build_patches(chittagong / "images", chittagong / "labels", tmp_path / "all",
                        band_order="B4,B3,B2,B8", landslide_value=2, min_valid_fraction=0.01,
                        progress=False)  # fmt: skip
    labels, _ = place_tiles(chittagong, "labels", names)
    # Patches tile the mosaic without overlap, so every landslide pixel lands in one patch.
    assert res.landslide_pixels == int((labels == 2).sum()) > 1000


def test_labels_with_other_classes_need_landslide_value(chittagong: Path, tmp_path: Path) -> None:
    from slidewatch.errors import DatasetError

    with rasterio.open(chittagong / "labels" / f"{TILES[3]}.tif") as ds:
        values, counts = np.unique(ds.read(1), return_counts=True)
    assert set(values.tolist()) >= {0, 1, 2}
    with pytest.raises(DatasetError, match="--landslide-value") as info:
        build_patches(
            chittagong / "images" / f"{TILES[3]}.tif",
            chittagong / "labels" / f"{TILES[3]}.tif",
            tmp_path / "o",
            band_order="red,green,blue,nir",
            progress=False,
        )
    for v, n in zip(values.tolist(), counts.tolist(), strict=True):
        assert f"{v} ({n:,} px)" in str(info.value)
    assert not (tmp_path / "o").exists()


def test_skips_are_explained_on_the_whole_mosaic(chittagong: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from slidewatch.cli import cli

    args = ["data", "build-patches", "--scene", str(chittagong / "images"), "--labels",
            str(chittagong / "labels"), "--band-order", "B4,B3,B2,B8", "--landslide-value", "2",
            "--size", "256", "--out", str(tmp_path / "o")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    index = json.loads((tmp_path / "o" / "index.geojson").read_text())
    kept = len(index["features"])
    assert f"wrote {kept} patches" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("skipped"))
    total = (2048 // 256) * (1152 // 256 + 1)  # 1152 = 4.5 windows: a padded fifth column
    assert f"of {total} windows" in line and "below --min-valid-fraction" in line
    assert "landslide px" in line and "with no valid pixel" in line
