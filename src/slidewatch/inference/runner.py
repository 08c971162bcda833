"""The streaming scene runner: windows in, finished rows of blended probability out.

The scene is walked along the global window grid (:mod:`slidewatch.inference.windows`) one
row of windows at a time. Batches are fixed by the global grid alone: each row of windows
is cut into chunks of ``batch_size`` consecutive windows (columns ``0..b-1``, ``b..2b-1``,
...), and a run over any range of rows and columns computes whole chunks. A window is
therefore always predicted in the same batch, next to the same windows, whatever part of
the scene is being run — which is what makes column panels and Dask blocks bit-identical
to a whole-scene run even though a network's output depends (by an ulp) on its batch.

Rows of input are read one strip of ``tile`` rows per row of windows by a prefetching
thread, so disk I/O overlaps the forward pass; invalid pixels are filled (``fill``)
before the model sees them. Blended rows are yielded as soon as no later window can touch
them, so the accumulators hold only the current strip and its overlap: memory does not
grow with the scene's height.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from slidewatch.inference.blending import add_windows, blended
from slidewatch.inference.fill import Filler
from slidewatch.inference.windows import WindowGrid, pad_to_tile

Predictor = Callable[[np.ndarray], np.ndarray]
"""N×C×H×W float32 (L4S scale) -> N×H×W float32 landslide probability."""

RowBlock = tuple[int, np.ndarray, np.ndarray]


class RowReader(Protocol):
    """What the runner reads strips from (a SceneReader, or a panel of one)."""

    def read(
        self, row: int, height: int, col: int = 0, width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """C×h×w float32 image and h×w bool validity of a block of rows."""
        ...


"""(first row, h×W float32 probability, h×W bool valid) of finished output rows."""

_DONE = object()


class _RowAccumulator:
    """Score, weight and valid rows from ``origin`` on, growing down and dropped when done."""

    def __init__(self, origin: int, width: int) -> None:
        self.origin = origin
        self.score = np.zeros((0, width), dtype=np.float32)
        self.weight = np.zeros((0, width), dtype=np.float32)
        self.valid = np.zeros((0, width), dtype=bool)

    def ensure(self, end_row: int) -> None:
        more = end_row - self.origin - self.score.shape[0]
        if more > 0:
            width = self.score.shape[1]
            self.score = np.concatenate([self.score, np.zeros((more, width), np.float32)])
            self.weight = np.concatenate([self.weight, np.zeros((more, width), np.float32)])
            self.valid = np.concatenate([self.valid, np.zeros((more, width), bool)])

    def set_valid(self, row: int, valid: np.ndarray) -> None:
        self.ensure(row + valid.shape[0])
        r = row - self.origin
        self.valid[r : r + valid.shape[0], : valid.shape[1]] = valid

    def pop(self, end_row: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Remove and return rows ``origin``..``end_row`` (score, weight, valid)."""
        n = max(0, end_row - self.origin)
        out = (self.origin, self.score[:n], self.weight[:n], self.valid[:n])
        self.score, self.weight, self.valid = self.score[n:], self.weight[n:], self.valid[n:]
        self.origin += n
        return out


@dataclass(frozen=True)
class _Strips:
    """What the reader thread reads: rows of windows, over columns ``[col, col + width)``."""

    rows: list[int]
    tile: int
    col: int
    width: int
    fill: Filler | None


def _strip_reader(
    reader: RowReader, strips: _Strips, out: queue.Queue[Any], stop: threading.Event
) -> None:
    try:
        kept: tuple[int, np.ndarray, np.ndarray] | None = None  # the last strip, filled
        for row in strips.rows:
            if stop.is_set():
                return
            image, valid = _overlapping_read(reader, strips, row, kept)
            kept = (row, image, valid)
            out.put((row, pad_to_tile(image, strips.tile), valid))
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        out.put(exc)


def _overlapping_read(
    reader: RowReader, strips: _Strips, row: int, kept: tuple[int, np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """The filled strip of ``tile`` rows at ``row``, reading only the rows ``kept`` lacks.

    Consecutive rows of windows overlap by ``overlap`` rows: those are taken from the
    previous strip (a quarter of the reading and masking at the default overlap). The fill
    is row by row, so filling the new rows alone gives the same values.
    """
    start = row
    if kept is not None and kept[0] <= row < kept[0] + kept[1].shape[1]:
        start = kept[0] + kept[1].shape[1]
    image, valid = reader.read(start, row + strips.tile - start, strips.col, strips.width)
    if strips.fill is not None and not valid.all():
        image = strips.fill(image, valid)
    if kept is None or start == row:
        return image, valid
    skip = row - kept[0]
    return (
        np.concatenate([kept[1][:, skip:], image], axis=1),
        np.concatenate([kept[2][skip:], valid], axis=0),
    )


@contextmanager
def _prefetched_strips(
    reader: RowReader, strips_spec: _Strips, prefetch: int
) -> Iterator[queue.Queue[Any]]:
    """A queue filled with (row, image, valid) strips by a reader thread, stopped on exit."""
    strips: queue.Queue[Any] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    thread = threading.Thread(
        target=_strip_reader, args=(reader, strips_spec, strips, stop), daemon=True
    )
    thread.start()
    try:
        yield strips
    finally:
        stop.set()
        while thread.is_alive():  # unblock a pending put so that the thread can end
            with suppress(queue.Empty):
                strips.get(timeout=0.05)
        thread.join()


def chunk_columns(
    col_starts: Sequence[int], tile: int, col0: int, col1: int, batch_size: int
) -> list[int]:
    """Start columns of the windows a run over columns ``[col0, col1)`` computes.

    The windows touching those columns, widened to whole batch chunks of the global grid
    (column indices ``k * batch_size .. (k + 1) * batch_size - 1``).

    >>> chunk_columns([0, 10, 20, 30, 40], 16, 25, 30, 2)
    [20, 30]
    >>> chunk_columns([0, 10, 20, 30, 40], 16, 35, 50, 2)
    [20, 30, 40]
    """
    touching = [j for j, c in enumerate(col_starts) if c < col1 and c + tile > col0]
    j0 = touching[0] // batch_size * batch_size
    j1 = min((touching[-1] // batch_size + 1) * batch_size, len(col_starts))
    return [int(c) for c in col_starts[j0:j1]]


def predict_rows(
    reader: RowReader,
    predictor: Predictor,
    grid: WindowGrid,
    weights: np.ndarray,
    *,
    batch_size: int = 8,
    first_row: int = 0,
    last_row: int | None = None,
    col0: int = 0,
    col1: int | None = None,
    prefetch: int = 2,
    fill: Filler | None = None,
) -> Iterator[RowBlock]:
    """Yield finished blocks of rows ``[first_row, last_row)``, columns ``[col0, col1)``.

    ``reader`` reads scene columns; ``fill`` replaces invalid pixels before prediction
    (:mod:`slidewatch.inference.fill`; None: keep what the reader gives).
    """
    last_row = grid.height if last_row is None else last_row
    col1 = grid.width if col1 is None else col1
    tile = grid.tile
    rows = [int(r) for r in grid.row_starts if r < last_row and r + tile > first_row]
    cols = chunk_columns(grid.col_starts, tile, col0, col1, batch_size)
    c_lo, read_width = cols[0], min(cols[-1] + tile, grid.width) - cols[0]
    acc = _RowAccumulator(rows[0], max(cols[-1] + tile - c_lo, tile))
    out_cols = (col0 - c_lo, col1 - c_lo)
    spec = _Strips(rows, tile, c_lo, read_width, fill)
    local_cols = np.asarray(cols, np.int64) - c_lo
    with _prefetched_strips(reader, spec, prefetch) as strips_in:
        for i, row in enumerate(rows):
            image = _next_strip(strips_in, row, acc)
            acc.ensure(row + tile)
            for k in range(0, len(cols), batch_size):
                chunk = local_cols[k : k + batch_size]
                batch = np.stack([image[:, :, c : c + tile] for c in chunk])
                probabilities = np.asarray(predictor(batch), dtype=np.float32)
                starts = np.stack([np.full(len(chunk), row - acc.origin), chunk], axis=1)
                add_windows(acc.score, acc.weight, probabilities, starts, weights)
            done = rows[i + 1] if i + 1 < len(rows) else grid.height
            yield from _finished(acc, min(done, last_row), first_row, out_cols)


def _next_strip(source: queue.Queue[Any], row: int, acc: _RowAccumulator) -> np.ndarray:
    item = source.get()
    if isinstance(item, BaseException):
        raise item
    if item is _DONE or item[0] != row:
        raise RuntimeError("strip reader out of step")  # a bug, not a user error
    _, image, valid = item
    acc.set_valid(row, valid)
    return np.ascontiguousarray(image, dtype=np.float32)


def _finished(
    acc: _RowAccumulator, end_row: int, first_row: int, cols: tuple[int, int]
) -> Iterator[RowBlock]:
    if end_row <= acc.origin:
        return
    origin, score, weight, valid = acc.pop(end_row)
    skip = max(first_row - origin, 0)
    if skip < score.shape[0]:
        a, b = cols
        probability = blended(score[skip:, a:b], weight[skip:, a:b])
        yield origin + skip, probability, valid[skip:, a:b].copy()
