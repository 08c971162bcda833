"""Column panels: wide scenes are processed as panels of at most :data:`PANEL_PX` columns.

Rows stream through :func:`~slidewatch.inference.runner.predict_rows`, so memory does not
grow with a scene's height; panels make it independent of the width as well. A panel owns
the output columns ``[col0, col1)`` and runs every window touching them, widened to whole
batch chunks of the global grid (:func:`~slidewatch.inference.runner.chunk_columns`). Each
output pixel therefore receives the same windows, predicted in the same batches and added
in the same order, as without panels: the outputs are bit-identical. The price is the
windows of a border chunk computed by both neighbours (up to ``batch_size - 1`` windows on
each side of each row of windows). Panel borders fall on multiples of ``PANEL_PX``, a
multiple of the output block size, so every output block is written by one panel only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from slidewatch.inference.runner import Predictor, RowBlock, RowReader, predict_rows
from slidewatch.inference.windows import WindowGrid

PANEL_PX = 4096
"""Output columns per panel (a multiple of the COG block size)."""

PanelBlock = tuple[int, int, np.ndarray, np.ndarray]
"""(first row, first column, probability h×w, valid h×w) of finished output pixels."""


@dataclass(frozen=True)
class Panel:
    """The output columns ``[col0, col1)`` of one panel."""

    col0: int
    """First output column (scene coordinates)."""
    col1: int
    """End of the output columns (exclusive)."""


def column_panels(grid: WindowGrid, panel_px: int | None = None) -> list[Panel]:
    """Panels covering ``grid``'s columns; one panel when the scene is narrow enough."""
    panel_px = PANEL_PX if panel_px is None else panel_px
    return [Panel(c, min(c + panel_px, grid.width)) for c in range(0, grid.width, panel_px)]


def panel_blocks(blocks: Iterator[RowBlock], panel: Panel) -> Iterator[PanelBlock]:
    """Row blocks of a panel with their first column."""
    for row, probability, valid in blocks:
        yield row, panel.col0, probability, valid


def predict_panel(
    reader: RowReader,
    predictor: Predictor,
    grid: WindowGrid,
    weights: np.ndarray,
    panel: Panel,
    **options: object,
) -> Iterator[PanelBlock]:
    """:func:`predict_rows` over the panel's columns (``options``: batch size, rows, fill)."""
    rows = predict_rows(
        reader,
        predictor,
        grid,
        weights,
        col0=panel.col0,
        col1=panel.col1,
        **options,  # type: ignore[arg-type]
    )
    return panel_blocks(rows, panel)
