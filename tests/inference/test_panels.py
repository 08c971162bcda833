"""Column panels: the same windows in the same order for every pixel, so identical outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference import distributed, panels
from slidewatch.inference.blending import window_weights
from slidewatch.inference.detect import detect
from slidewatch.inference.runner import predict_rows
from slidewatch.inference.scene import SceneReader, open_scene
from slidewatch.inference.windows import window_grid

from .conftest import RGBN, scene_array, write_scene
from .test_runner import biased_predictor


def test_panels_cover_the_columns_once_with_every_touching_window() -> None:
    grid = window_grid(100, 300, 32, 8)
    found = panels.column_panels(grid, panel_px=64)
    assert [(p.col0, p.col1) for p in found] == [(0, 64), (64, 128), (128, 192), (192, 256),
                                                (256, 300)]  # fmt: skip
    for p in found:
        scene_cols = [p.offset + s for s in p.grid.col_starts]
        expected = [s for s in grid.col_starts if s < p.col1 and s + grid.tile > p.col0]
        assert scene_cols == expected
        assert p.offset + p.grid.width <= grid.width
    assert panels.column_panels(grid, panel_px=300)[0].grid == grid


@pytest.mark.parametrize("panel_px", [48, 64, 100])
def test_panelled_rows_equal_full_width_rows(tmp_path: Path, panel_px: int) -> None:
    path = write_scene(tmp_path / "s.tif", scene_array(90, 230, seed=2))
    scene = open_scene([path], RGBN, scale="none")
    grid = window_grid(90, 230, 32, 10)
    weights = window_weights(32)
    predictor = biased_predictor()
    with SceneReader(scene) as reader:
        full = np.concatenate([p for _, p, _ in predict_rows(reader, predictor, grid, weights)])
        out = np.full_like(full, np.nan)
        for panel in panels.column_panels(grid, panel_px):
            rows = predict_rows(panels.PanelReader(reader, panel), predictor, panel.grid, weights)
            for row, col, prob, _ in panels.panel_blocks(rows, panel):
                out[row : row + prob.shape[0], col : col + prob.shape[1]] = prob
    np.testing.assert_array_equal(out, full)


def test_detect_with_panels_single_and_dask_agree(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    monkeypatch.setattr(panels, "PANEL_PX", 64)
    monkeypatch.setattr(distributed, "WINDOW_ROWS_PER_BLOCK", 2)
    scene = write_scene(tmp_path / "scene.tif", scene_array(150, 200, seed=5))
    options = {"tile": 64, "overlap": 20, "batch_size": 3, "progress": False}
    single = detect(scene, tiny_model, tmp_path / "single", **options)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
        host="127.0.0.1", dashboard_address=None,
    ) as cluster:  # fmt: skip
        detect(scene, tiny_model, tmp_path / "dask", dask_address=cluster.scheduler_address,
               **options)  # fmt: skip
    for name in ("landslides.tif", "probability.tif"):
        with (
            rasterio.open(tmp_path / "single" / name) as a,
            rasterio.open(tmp_path / "dask" / name) as b,
        ):
            assert a.shape == (150, 200)
            np.testing.assert_array_equal(a.read(), b.read())
            assert (a.read(1) != a.nodata).all()  # every column written
    assert single["scene_area_km2"] > 0
