"""The window grid: coverage, edge alignment, tiny scenes, grid offsets."""

from __future__ import annotations

import numpy as np
import pytest

from slidewatch.errors import ConfigError
from slidewatch.inference.windows import axis_starts, pad_to_tile, window_grid


def test_axis_starts_by_hand() -> None:
    assert axis_starts(20, 10, 5) == (0, 5, 10)
    assert axis_starts(22, 10, 5) == (0, 5, 10, 12)  # last aligned with the edge
    assert axis_starts(10, 10, 5) == (0,)
    assert axis_starts(7, 10, 5) == (0,)  # shorter than a tile: one padded window
    assert axis_starts(30, 10, 8, offset=3) == (0, 3, 11, 19, 20)


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap"),
    [(100, 37, 16, 4), (64, 64, 32, 0), (129, 300, 64, 16), (5, 9, 16, 4)],
)
def test_grid_covers_scene_and_ends_at_edges(
    height: int, width: int, tile: int, overlap: int
) -> None:
    grid = window_grid(height, width, tile, overlap)
    covered = np.zeros((max(height, tile), max(width, tile)), dtype=int)
    for row, col in grid.windows:
        covered[row : row + tile, col : col + tile] += 1
    assert (covered[:height, :width] >= 1).all()
    assert grid.row_starts[-1] == max(height - tile, 0)
    assert grid.col_starts[-1] == max(width - tile, 0)
    assert (np.diff(grid.row_starts) <= tile - overlap).all()
    assert len(grid) == len(grid.windows) == len(grid.row_starts) * len(grid.col_starts)


def test_windows_are_row_major() -> None:
    grid = window_grid(40, 40, 20, 10)
    assert grid.windows.tolist() == [[r, c] for r in (0, 10, 20) for c in (0, 10, 20)]


def test_bad_overlap_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--overlap-px"):
        window_grid(100, 100, 32, 32)


def test_pad_to_tile_reflects_bottom_right() -> None:
    image = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    padded = pad_to_tile(image, 6)
    assert padded.shape == (1, 6, 6)
    np.testing.assert_array_equal(padded[:, :3, :4], image)  # original pixels keep indices
    np.testing.assert_array_equal(padded[0, 3, :4], image[0, 1])  # reflected row
    np.testing.assert_array_equal(padded[0, :3, 4], image[0, :, 2])  # reflected column
    assert pad_to_tile(image, 2) is image
