"""Column panels: wide scenes are processed as panels of at most :data:`PANEL_PX` columns.

Rows stream through :func:`~slidewatch.inference.runner.predict_rows`, so memory does not
grow with a scene's height; panels make it independent of the width as well. A panel owns
the output columns ``[col0, col1)`` and runs every window of the global grid that touches
them, as a sub-grid whose column 0 is scene column ``offset``. Each output pixel therefore
receives the same windows, added in the same (row-major) order, as without panels; windows
straddling a panel border are computed by both neighbours (about ``tile / PANEL_PX`` more
work). Panel borders fall on multiples of ``PANEL_PX``, a multiple of the output block size,
so every output block is written by one panel only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from slidewatch.inference.runner import RowBlock
from slidewatch.inference.scene import SceneReader
from slidewatch.inference.windows import WindowGrid

PANEL_PX = 4096
"""Output columns per panel (a multiple of the COG block size)."""

PanelBlock = tuple[int, int, np.ndarray, np.ndarray]
"""(first row, first column, probability h×w, valid h×w) of finished output pixels."""


@dataclass(frozen=True)
class Panel:
    """The windows that produce output columns ``[col0, col1)``."""

    col0: int
    """First output column (scene coordinates)."""
    col1: int
    """End of the output columns (exclusive)."""
    offset: int
    """Scene column of the sub-grid's column 0."""
    grid: WindowGrid
    """The windows touching the panel, columns relative to ``offset``."""


def column_panels(grid: WindowGrid, panel_px: int | None = None) -> list[Panel]:
    """Panels covering ``grid``'s columns; one panel when the scene is narrow enough."""
    panel_px = PANEL_PX if panel_px is None else panel_px
    if grid.width <= panel_px:
        return [Panel(0, grid.width, 0, grid)]
    panels = []
    for col0 in range(0, grid.width, panel_px):
        col1 = min(col0 + panel_px, grid.width)
        starts = [s for s in grid.col_starts if s < col1 and s + grid.tile > col0]
        offset = starts[0]
        sub = replace(
            grid,
            width=starts[-1] + grid.tile - offset,
            col_starts=tuple(s - offset for s in starts),
        )
        panels.append(Panel(col0, col1, offset, sub))
    return panels


class PanelReader:
    """A :class:`SceneReader` seen through a panel: column 0 is scene column ``offset``."""

    def __init__(self, reader: SceneReader, panel: Panel) -> None:
        self._reader = reader
        self._offset = panel.offset
        self._width = panel.grid.width

    def read(
        self, row: int, height: int, col: int = 0, width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`SceneReader.read`, in panel columns."""
        width = self._width - col if width is None else width
        return self._reader.read(row, height, self._offset + col, width)


def panel_blocks(blocks: Iterator[RowBlock], panel: Panel) -> Iterator[PanelBlock]:
    """The panel's own output columns of each finished row block."""
    a, b = panel.col0 - panel.offset, panel.col1 - panel.offset
    for row, probability, valid in blocks:
        yield row, panel.col0, probability[:, a:b], valid[:, a:b]
