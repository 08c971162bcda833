"""The data contract's rules on real data: no false alarm on held-out real tiles and
patches, every B2/B4 swap and raw-as-L4S mistake flagged."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import rasterio

from slidewatch.bands import BAND_NAMES, scale_vector
from slidewatch.data.contract import band_stats, compare, stats_from_normalization
from slidewatch.data.normalization import normalization_from_arrays

RGBN = ("B4", "B3", "B2", "B8")  # the Chittagong tiles' band order


def tile_pixels(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        values = ds.read().reshape(4, -1).astype(np.float64)
    return values[:, (values != 0).all(axis=0)]  # 0 in every band is the exporter's fill


def test_chittagong_held_out_tiles(shared_data: Path) -> None:
    tiles = sorted((shared_data / "s2-chittagong" / "images").glob("*.tif"))
    div = scale_vector(RGBN)[:, None]
    trained = band_stats(np.concatenate([tile_pixels(t) for t in tiles[::2]], axis=1) / div, RGBN)
    held_out = [p for p in map(tile_pixels, tiles[1::2]) if p.shape[1] >= 500]
    assert len(held_out) >= 40
    for raw in held_out:
        assert compare(band_stats(raw / div, RGBN), trained) == []
        # as read with --band-order B2,B3,B4,B8: each band divided by the other's constant
        swapped = compare(band_stats(raw[[2, 1, 0, 3]] / div, RGBN), trained)
        order = [i for i in swapped if i.rule in ("swapped", "differs")]  # a warning either way
        assert any({"B2", "B4"} <= set(i.bands) for i in order)
        unscaled = compare(band_stats(raw, RGBN), trained)  # --scale none on raw values
        assert {i.bands for i in unscaled if i.rule == "scale"} == {(b,) for b in RGBN}


def test_real_l4s_patches_raise_no_false_alarm(shared_data: Path) -> None:
    def pixels(path: Path) -> np.ndarray:
        with h5py.File(path) as f:
            return f["img"][()].reshape(-1, 14).T

    labelled = sorted((shared_data / "l4s-real" / "img").glob("*.h5"))
    train = np.concatenate([pixels(p) for p in labelled], axis=1)
    trained = band_stats(train, BAND_NAMES)
    # An old model file's minmax normalisation (one patch is lowland: elevation p98 1/20).
    old = stats_from_normalization(
        normalization_from_arrays("minmax", BAND_NAMES, minimum=train.min(1), maximum=train.max(1))
    )
    assert old is not None
    others = sorted((shared_data / "l4s-real-unlabeled").rglob("*.h5"))
    assert others
    for path in [*labelled, *others]:
        found = band_stats(pixels(path), BAND_NAMES)
        assert compare(found, trained) == [] and compare(found, old) == [], path
