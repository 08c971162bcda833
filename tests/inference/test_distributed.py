"""Dask execution gives exactly the single-process result."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference import distributed
from slidewatch.inference.detect import detect
from slidewatch.inference.windows import window_grid

from .conftest import scene_array, write_scene

pytest.importorskip("distributed")


def test_row_blocks_start_on_window_rows_and_cover_the_scene() -> None:
    grid = window_grid(300, 100, 32, 8)
    blocks = distributed.row_blocks(grid, window_rows=3)
    assert blocks[0][0] == 0 and blocks[-1][1] == 300
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert all(start in grid.row_starts for start, _ in blocks)


def test_dask_result_is_identical(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    scene = write_scene(tmp_path / "scene.tif", scene_array(230, 150, seed=4))
    options = {"tile": 64, "overlap": 20, "batch_size": 3, "progress": False}
    single = detect(scene, tiny_model, tmp_path / "single", **options)
    monkeypatch.setattr(distributed, "WINDOW_ROWS_PER_BLOCK", 2)  # several blocks
    assert len(distributed.row_blocks(window_grid(230, 150, 64, 20))) >= 3
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        spread = detect(
            scene, tiny_model, tmp_path / "dask", dask_address=cluster.scheduler_address, **options
        )
    for name in ("landslides.tif", "probability.tif"):
        with (
            rasterio.open(tmp_path / "single" / name) as a,
            rasterio.open(tmp_path / "dask" / name) as b,
        ):
            np.testing.assert_array_equal(a.read(), b.read())
    assert spread["polygon_count"] == single["polygon_count"]
    assert (tmp_path / "dask" / "landslides.geojson").read_text() == (
        tmp_path / "single" / "landslides.geojson"
    ).read_text()
