"""The streaming runner with fake predictors: seams, grid shifts, row ranges, tiny scenes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from slidewatch.data.normalization import Normalization
from slidewatch.inference.blending import window_weights
from slidewatch.inference.fill import make_filler
from slidewatch.inference.runner import predict_rows
from slidewatch.inference.windows import WindowGrid, window_grid
from slidewatch.models.modelfile import ModelSpec
from slidewatch.scene import SceneReader, open_scene

from .conftest import RGBN, scene_array, write_scene


def biased_predictor(
    seed: int = 0, edge_px: int = 6, offset: float = 0.15
) -> Callable[[np.ndarray], np.ndarray]:
    """A stand-in CNN: a smooth function of band 0, damped near the window's border (like
    zero padding) plus a pseudo-random offset per window (like a per-window calibration
    error), derived from the window's content so that the same window always gets the same."""

    def predict(batch: np.ndarray) -> np.ndarray:
        n, _, h, w = batch.shape
        base = 0.2 + 0.3 * np.tanh(batch[:, 0] - 0.8)
        edge = np.ones((h, w), np.float32)
        edge[:edge_px], edge[-edge_px:], edge[:, :edge_px], edge[:, -edge_px:] = 0.6, 0.6, 0.6, 0.6
        noise = (batch.astype(np.float64).sum(axis=(1, 2, 3)) * (997 + seed)) % 1.0
        offsets = ((noise - 0.5) * 2 * offset).reshape(n, 1, 1)
        return (base * edge + offsets).astype(np.float32)

    return predict


def run(
    path: Path,
    grid: WindowGrid,
    predictor: Callable[[np.ndarray], np.ndarray],
    weights: np.ndarray | None,
    first_row: int = 0,
    last_row: int | None = None,
    batch_size: int = 5,
) -> np.ndarray:
    scene = open_scene([path], RGBN, scale="none")
    if weights is None:
        weights = np.ones((grid.tile, grid.tile), np.float32)
    with SceneReader(scene) as reader:
        blocks = list(
            predict_rows(
                reader,
                predictor,
                grid,
                weights,
                batch_size=batch_size,
                first_row=first_row,
                last_row=last_row,
            )
        )
    rows = [r for r, _, _ in blocks]
    assert rows == sorted(rows)
    return np.concatenate([p for _, p, _ in blocks])


def jumps(prob: np.ndarray, borders: list[int], margin: int) -> tuple[float, float]:
    """Mean |difference| between neighbouring columns at ``borders`` and elsewhere, away
    from the scene's left and right ``margin`` (where only one window's edge is seen)."""
    diffs = np.abs(np.diff(prob, axis=1))  # diffs[:, c-1] is between columns c-1 and c
    at = np.zeros(diffs.shape[1], bool)
    at[[c - 1 for c in borders if c > 0]] = True
    away = np.zeros_like(at)
    away[margin : diffs.shape[1] - margin] = True
    return float(diffs[:, at & away].mean()), float(diffs[:, ~at & away].mean())


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    return write_scene(tmp_path / "scene.tif", scene_array(96, 160, scar=False))


def test_blended_output_has_no_seams(scene_file: Path) -> None:
    tile = 32
    blended_grid = window_grid(96, 160, tile, 12)
    borders = sorted({c for s in blended_grid.col_starts for c in (s, s + tile)} - {0, 160})
    prob = run(scene_file, blended_grid, biased_predictor(), window_weights(tile))
    at_border, inside = jumps(prob, borders, tile)
    assert at_border <= 1.1 * inside
    naive_grid = window_grid(96, 160, tile, 0)  # tiles without overlap: visible seams
    naive = run(scene_file, naive_grid, biased_predictor(), None)
    naive_border, naive_inside = jumps(naive, list(naive_grid.col_starts), tile)
    assert naive_border > 4 * naive_inside


def test_shifting_the_grid_changes_little(scene_file: Path) -> None:
    tile = 32
    still = window_grid(96, 160, tile, 16)
    shifted = window_grid(96, 160, tile, 16, offset=(7, 11))
    assert still.col_starts != shifted.col_starts
    w = window_weights(tile)
    a = run(scene_file, still, biased_predictor(seed=1, offset=0.02), w)
    b = run(scene_file, shifted, biased_predictor(seed=1, offset=0.02), w)
    interior = (slice(tile, -tile), slice(tile, -tile))
    blended_change = float(np.abs(a - b)[interior].mean())
    n_still, n_shifted = (window_grid(96, 160, tile, 0, offset=o) for o in ((0, 0), (7, 11)))
    na = run(scene_file, n_still, biased_predictor(seed=1, offset=0.02), None)
    nb = run(scene_file, n_shifted, biased_predictor(seed=1, offset=0.02), None)
    naive_change = float(np.abs(na - nb)[interior].mean())
    assert blended_change < 0.5 * naive_change
    assert blended_change < 0.02


def constant_predictor(batch: np.ndarray) -> np.ndarray:
    return (batch[:, 0] / 4.0).astype(np.float32)


def test_row_ranges_equal_the_whole_run(scene_file: Path) -> None:
    grid = window_grid(96, 160, 32, 10)
    w = window_weights(32)
    whole = run(scene_file, grid, biased_predictor(seed=3), w, batch_size=4)
    for first, last in [(0, 22), (22, 66), (44, 96), (66, 96)]:
        part = run(scene_file, grid, biased_predictor(seed=3), w, first, last, batch_size=4)
        np.testing.assert_array_equal(part, whole[first:last])


def test_pure_function_blends_back_to_itself(scene_file: Path) -> None:
    # a position-independent predictor blended from any windows returns itself
    prob = run(scene_file, window_grid(96, 160, 32, 8), constant_predictor, window_weights(32))
    np.testing.assert_allclose(prob, scene_array(96, 160, scar=False)[0] / 4.0, rtol=1e-5)


def test_scene_smaller_than_a_tile_is_padded(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "small.tif", scene_array(20, 13))
    prob = run(path, window_grid(20, 13, 32, 8), constant_predictor, window_weights(32))
    assert prob.shape == (20, 13)
    np.testing.assert_allclose(prob, scene_array(20, 13)[0] / 4.0, rtol=1e-5)


def test_a_failing_predictor_stops_the_reader_thread(scene_file: Path) -> None:
    import threading

    calls = []

    def failing(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("model crashed")
        return batch[:, 0]

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="model crashed"):
        run(scene_file, window_grid(96, 160, 16, 4), failing, None, batch_size=2)
    assert threading.active_count() == before


def test_strips_reuse_their_overlap_and_equal_whole_array_windows(tmp_path: Path) -> None:
    # rows shared by consecutive rows of windows are read once; with holes filled row by
    # row, every window must still see what it would see cut from the whole filled image
    data = scene_array(100, 70, seed=4)
    data[:, 30:50, 10:25] = np.nan  # a hole across a strip border
    data[:, 61, :] = np.nan  # an empty row: the fill's default
    path = write_scene(tmp_path / "holes.tif", data)
    grid = window_grid(100, 70, 32, 12)
    fill = make_filler(ModelSpec("unet", {}, RGBN, Normalization.identity(RGBN)))
    seen: list[np.ndarray] = []

    def recording(batch: np.ndarray) -> np.ndarray:
        seen.extend(batch.copy())
        return batch[:, 0].copy()

    scene = open_scene([path], RGBN, scale="none")
    with SceneReader(scene) as reader:
        whole, valid = reader.read(0, 100)
        list(predict_rows(reader, recording, grid, window_weights(32), batch_size=3, fill=fill))
    filled = fill(whole, valid)
    expected = [filled[:, r : r + 32, c : c + 32] for r, c in grid.windows]
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(got, want)
