"""The sliding-window grid over a scene (pure functions).

Windows are ``tile`` × ``tile`` squares placed every ``stride = tile - overlap_px`` pixels.
The last window of each axis is aligned with the scene's edge, so every pixel is covered
and no window reaches outside the scene; an axis shorter than a tile gets one window at 0
and the scene is padded (reflect) up to the tile size. ``offset`` shifts the interior grid
(used to show that the result barely depends on where the grid falls).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slidewatch.errors import ConfigError


@dataclass(frozen=True)
class WindowGrid:
    """The global window grid of one scene, in row-major order."""

    height: int
    """Scene height in pixels."""
    width: int
    """Scene width in pixels."""
    tile: int
    """Window side in pixels."""
    row_starts: tuple[int, ...]
    """Start row of each row of windows, increasing."""
    col_starts: tuple[int, ...]
    """Start column of each column of windows, increasing."""

    @property
    def windows(self) -> np.ndarray:
        """All windows as an N×2 int array of (row, col) starts, row-major."""
        rows = np.repeat(np.asarray(self.row_starts, dtype=np.int64), len(self.col_starts))
        cols = np.tile(np.asarray(self.col_starts, dtype=np.int64), len(self.row_starts))
        return np.stack([rows, cols], axis=1)

    def __len__(self) -> int:
        return len(self.row_starts) * len(self.col_starts)


def axis_starts(length: int, tile: int, stride: int, offset: int = 0) -> tuple[int, ...]:
    """Window starts along one axis: 0, then ``offset + k*stride``, and ``length - tile`` last.

    >>> axis_starts(20, 10, 5)
    (0, 5, 10)
    >>> axis_starts(22, 10, 5)
    (0, 5, 10, 12)
    >>> axis_starts(7, 10, 5)
    (0,)
    """
    if tile <= 0 or stride <= 0 or stride > tile:
        raise ConfigError(f"need 0 < stride ({stride}) <= tile ({tile}); lower --overlap-px")
    last = max(length - tile, 0)
    inner = np.arange(offset % stride, last, stride)
    starts = np.unique(np.concatenate([[0], inner, [last]]))
    return tuple(int(s) for s in starts)


def window_grid(
    height: int, width: int, tile: int, overlap_px: int, offset: tuple[int, int] = (0, 0)
) -> WindowGrid:
    """The window grid covering a ``height`` × ``width`` scene (see module docstring)."""
    if not 0 <= overlap_px < tile:
        raise ConfigError(
            f"--overlap-px {overlap_px} must be >= 0 and smaller than --tile-px {tile}"
        )
    if height <= 0 or width <= 0:
        raise ConfigError(f"empty scene ({height}×{width} pixels); pass a scene with pixels")
    stride = tile - overlap_px
    return WindowGrid(
        height,
        width,
        tile,
        axis_starts(height, tile, stride, offset[0]),
        axis_starts(width, tile, stride, offset[1]),
    )


def pad_to_tile(image: np.ndarray, tile: int) -> np.ndarray:
    """Reflect-pad the last two axes of ``image`` up to at least ``tile`` (scenes below a tile).

    Padding goes to the bottom and right only, so the original pixels keep their indices.
    """
    pad_h = max(tile - image.shape[-2], 0)
    pad_w = max(tile - image.shape[-1], 0)
    if pad_h == 0 and pad_w == 0:
        return image
    widths = [(0, 0)] * (image.ndim - 2) + [(0, pad_h), (0, pad_w)]
    return np.pad(image, widths, mode="reflect")
