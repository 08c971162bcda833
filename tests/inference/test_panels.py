"""Column panels: the same windows in the same batches for every pixel, so identical
outputs — checked with a real seeded network, whose output depends (by an ulp) on the
batch a window is predicted in, not only with a batch-invariant fake."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference import distributed, panels
from slidewatch.inference.blending import window_weights
from slidewatch.inference.detect import detect
from slidewatch.inference.detection import DetectOptions
from slidewatch.inference.engine import load_engine
from slidewatch.inference.runner import chunk_columns, predict_rows
from slidewatch.inference.windows import window_grid
from slidewatch.scene import SceneReader, open_scene

from .conftest import RGBN, scene_array, write_scene


def test_panels_cover_the_columns_once() -> None:
    grid = window_grid(100, 300, 32, 8)
    found = panels.column_panels(grid, panel_px=64)
    assert [(p.col0, p.col1) for p in found] == [(0, 64), (64, 128), (128, 192), (192, 256),
                                                (256, 300)]  # fmt: skip
    assert panels.column_panels(grid, panel_px=300) == [panels.Panel(0, 300)]


def test_a_panel_computes_whole_batch_chunks_of_the_global_grid() -> None:
    grid = window_grid(100, 300, 32, 8)  # starts 0, 24, ..., 264, 268
    cols = chunk_columns(grid.col_starts, 32, 64, 128, batch_size=4)
    touching = [s for s in grid.col_starts if s < 128 and s + 32 > 64]
    assert set(touching) <= set(cols)
    first = list(grid.col_starts).index(cols[0])
    assert first % 4 == 0 and (len(cols) % 4 == 0 or cols[-1] == grid.col_starts[-1])


def _blend(reader: SceneReader, predict: object, grid: object, weights: np.ndarray,
           panel_px: int | None, batch_size: int) -> np.ndarray:  # fmt: skip
    out = np.full((grid.height, grid.width), np.nan, np.float32)  # type: ignore[attr-defined]
    if panel_px is None:
        for row, prob, _ in predict_rows(reader, predict, grid, weights, batch_size=batch_size):  # type: ignore[arg-type]
            out[row : row + prob.shape[0]] = prob
        return out
    for panel in panels.column_panels(grid, panel_px):  # type: ignore[arg-type]
        for row, col, prob, _ in panels.predict_panel(
            reader,
            predict,
            grid,
            weights,
            panel,
            batch_size=batch_size,  # type: ignore[arg-type]
        ):
            out[row : row + prob.shape[0], col : col + prob.shape[1]] = prob
    return out


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_panelled_rows_equal_full_width_rows_with_a_real_network(
    tmp_path: Path, tiny_model: Path, engine: str
) -> None:
    path = write_scene(tmp_path / "s.tif", scene_array(100, 330, seed=2))
    scene = open_scene([path], RGBN, scale="none")
    predict = load_engine(tiny_model, engine, threads=2).predict
    grid = window_grid(100, 330, 64, 20)
    weights = window_weights(64)
    with SceneReader(scene) as reader:
        full = _blend(reader, predict, grid, weights, None, 3)
        assert np.isfinite(full).all()
        for panel_px in (64, 100, 192):
            np.testing.assert_array_equal(_blend(reader, predict, grid, weights, panel_px, 3), full)


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_detect_with_panels_single_and_dask_agree(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """Panels are exact with either engine. Dask workers run with their share of the cores;
    ONNX Runtime's results do not depend on the thread count (exact), torch's oneDNN
    reductions do (a few values differ by an ulp)."""
    from distributed import LocalCluster

    monkeypatch.setattr(panels, "PANEL_PX", 64)
    monkeypatch.setattr(distributed, "WINDOW_ROWS_PER_BLOCK", 2)
    scene = write_scene(tmp_path / "scene.tif", scene_array(150, 200, seed=5))
    options = DetectOptions(tile_px=64, overlap_px=20, batch_size=3, engine=engine)
    single = detect(scene, tiny_model, tmp_path / "single", options, progress=False)
    wide = detect(scene, tiny_model, tmp_path / "wide", replace(options, panel_px=4096),
                  progress=False)  # fmt: skip
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
        host="127.0.0.1", dashboard_address=None,
    ) as cluster:  # fmt: skip
        spread = replace(options, dask_address=cluster.scheduler_address)
        detect(scene, tiny_model, tmp_path / "dask", spread, progress=False)
    with rasterio.open(tmp_path / "single" / "probability.tif") as a:
        ours = a.read(1)
        assert a.shape == (150, 200) and (ours != a.nodata).all()  # every column written
    with rasterio.open(tmp_path / "wide" / "probability.tif") as b:
        np.testing.assert_array_equal(b.read(1), ours)
    with rasterio.open(tmp_path / "dask" / "probability.tif") as c:
        if engine == "onnx":
            np.testing.assert_array_equal(c.read(1), ours)
        else:
            np.testing.assert_allclose(c.read(1), ours, rtol=0, atol=1e-6)
    assert single.scene_area_km2 > 0 and wide.polygon_count == single.polygon_count
