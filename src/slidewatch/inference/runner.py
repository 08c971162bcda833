"""The streaming scene runner: windows in, finished rows of blended probability out.

The scene is walked along the global window grid (:mod:`slidewatch.inference.windows`) in
row-major order, in batches cut from that global order (window ``i`` is always in batch
``i // batch_size``). Rows of input are read one strip of ``tile`` rows per row of windows,
by a prefetching thread so that disk I/O overlaps the model's forward pass. Blended rows
are yielded as soon as no later window can touch them, so the accumulators hold only the
current strip and its overlap: memory does not grow with the scene's height.

Because windows and batches come from the global grid and every pixel receives its
windows' contributions in the same order, running any row range ``[first_row, last_row)``
gives bit-identical values to the same rows of a whole-scene run (the basis of the Dask
execution in :mod:`slidewatch.inference.distributed`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import numpy as np

from slidewatch.inference.blending import add_windows, blended
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


def _strip_reader(
    reader: RowReader, rows: list[int], tile: int, out: queue.Queue[Any], stop: threading.Event
) -> None:
    try:
        for row in rows:
            if stop.is_set():
                return
            image, valid = reader.read(row, tile)
            out.put((row, pad_to_tile(image, tile), valid))
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        out.put(exc)


@contextmanager
def _prefetched_strips(
    reader: RowReader, rows: list[int], tile: int, prefetch: int
) -> Iterator[queue.Queue[Any]]:
    """A queue filled with (row, image, valid) strips by a reader thread, stopped on exit."""
    strips: queue.Queue[Any] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    thread = threading.Thread(
        target=_strip_reader, args=(reader, rows, tile, strips, stop), daemon=True
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


def _window_range(grid: WindowGrid, first_row: int, last_row: int) -> tuple[int, int]:
    """Indices [i0, i1) of the windows that touch rows [first_row, last_row)."""
    rows = np.repeat(np.asarray(grid.row_starts), len(grid.col_starts))
    i0 = int(np.searchsorted(rows, first_row - grid.tile, side="right"))
    i1 = int(np.searchsorted(rows, last_row, side="left"))
    return i0, i1


def predict_rows(
    reader: RowReader,
    predictor: Predictor,
    grid: WindowGrid,
    weights: np.ndarray,
    *,
    batch_size: int = 8,
    first_row: int = 0,
    last_row: int | None = None,
    prefetch: int = 2,
) -> Iterator[RowBlock]:
    """Yield finished blocks of rows covering ``[first_row, last_row)`` in order."""
    last_row = grid.height if last_row is None else last_row
    windows, tile = grid.windows, grid.tile
    i0, i1 = _window_range(grid, first_row, last_row)
    b0 = i0 // batch_size * batch_size
    b1 = min(-(-i1 // batch_size) * batch_size, len(windows))
    strip_rows = sorted({int(r) for r in windows[b0:b1, 0]})
    acc = _RowAccumulator(int(windows[b0, 0]), max(grid.width, tile))
    strips: dict[int, np.ndarray] = {}
    with _prefetched_strips(reader, strip_rows, tile, prefetch) as strips_in:
        for start in range(b0, b1, batch_size):
            batch = windows[start : start + batch_size]
            _load_strips(strips, strips_in, {int(r) for r in batch[:, 0]}, acc)
            images = np.stack([strips[int(r)][:, :, c : c + tile] for r, c in batch])
            probabilities = np.asarray(predictor(np.ascontiguousarray(images, np.float32)))
            keep = slice(max(i0 - start, 0), max(min(i1 - start, len(batch)), 0))
            acc.ensure(int(batch[-1, 0]) + tile)
            local = batch[keep] - np.array([acc.origin, 0])  # accumulator rows from origin
            add_windows(
                acc.score, acc.weight, probabilities[keep].astype(np.float32), local, weights
            )
            nxt = start + batch_size
            done = int(windows[nxt, 0]) if nxt < len(windows) else grid.height
            yield from _finished(acc, min(done, last_row), first_row, grid.width)
            for r in [r for r in strips if nxt >= b1 or r < windows[nxt, 0]]:
                del strips[r]


def _load_strips(
    strips: dict[int, np.ndarray], source: queue.Queue[Any], needed: set[int], acc: _RowAccumulator
) -> None:
    while not needed <= strips.keys():
        item = source.get()
        if isinstance(item, BaseException):
            raise item
        if item is _DONE:
            raise RuntimeError("strip reader stopped early")  # a bug, not a user error
        row, image, valid = item
        strips[row] = image
        if row >= acc.origin:
            acc.set_valid(row, valid)


def _finished(acc: _RowAccumulator, end_row: int, first_row: int, width: int) -> Iterator[RowBlock]:
    if end_row <= acc.origin:
        return
    origin, score, weight, valid = acc.pop(end_row)
    skip = max(first_row - origin, 0)
    if skip < score.shape[0]:
        probability = blended(score[skip:, :width], weight[skip:, :width])
        yield origin + skip, probability, valid[skip:, :width].copy()
