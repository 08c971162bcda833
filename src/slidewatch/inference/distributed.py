"""Running the scene runner on a Dask cluster, block by block.

The scene is cut into blocks of whole rows of windows (:func:`row_blocks`), each starting at
a row of the global window grid. A worker opens the scene and the model itself (only paths
travel), runs :func:`slidewatch.inference.runner.predict_rows` over the block's rows — which
computes every window touching them, i.e. a halo of up to one tile above — and returns the
block's interior. Since windows and batches come from the global grid, every pixel gets
exactly the values of a single-process run.

Each worker keeps its engine between tasks, keyed by the model's hash (so a persistent
cluster picks up a retrained or recalibrated model) and built with the worker's share of
its machine's cores: workers on one host split the cores instead of each using all of them.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from slidewatch.errors import ModelError
from slidewatch.inference.blending import window_weights
from slidewatch.inference.engine import Engine, available_cores, load_engine
from slidewatch.inference.fill import make_filler
from slidewatch.inference.panels import Panel, PanelBlock, column_panels, predict_panel
from slidewatch.inference.windows import WindowGrid
from slidewatch.models.identity import model_hash
from slidewatch.scene import Scene, SceneReader

WINDOW_ROWS_PER_BLOCK = 8
"""Rows of windows per Dask task: larger blocks waste less on halos, smaller ones balance."""


def row_blocks(grid: WindowGrid, window_rows: int | None = None) -> list[tuple[int, int]]:
    """Consecutive row ranges [start, stop) covering the scene, each starting at a window row.

    ``window_rows`` rows of windows per block; None: :data:`WINDOW_ROWS_PER_BLOCK`.
    """
    starts = list(grid.row_starts[:: window_rows or WINDOW_ROWS_PER_BLOCK])
    return list(zip(starts, [*starts[1:], grid.height], strict=True))


class EngineKey(NamedTuple):
    """What a worker needs to load the engine the client chose."""

    model: str
    """Model folder or exported ``.onnx`` file."""
    engine: str
    """``torch`` or ``onnx``."""
    device: str
    """Resolved device (``cpu``, ``cuda``...)."""
    digest: str = ""
    """The model's identity (:func:`slidewatch.models.identity.model_hash`); the worker's
    cache key."""


@functools.lru_cache(maxsize=2)
def _cached_engine(key: EngineKey, threads: int) -> Engine:
    if key.digest and model_hash(key.model) != key.digest:
        raise ModelError(
            f"{key.model}: the model files on this Dask worker differ from the client's "
            "(another hash); give the workers the same model folder"
        )
    return load_engine(key.model, key.engine, key.device, threads=threads)


def worker_threads(workers_on_host: dict[str, int]) -> int:
    """This worker's share of its machine's cores (all of them outside a Dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return available_cores()
    host = worker.address.rsplit(":", 1)[0]
    share = workers_on_host.get(host, 1) * max(worker.state.nthreads, 1)
    return max(1, available_cores() // share)


def predict_block(
    scene: Scene,
    key: EngineKey,
    grid: WindowGrid,
    panel: Panel,
    batch_size: int,
    rows: tuple[int, int],
    workers_on_host: dict[str, int] | None = None,
) -> PanelBlock:
    """Run on a worker: the blended probability and validity of rows ``rows`` of a panel."""
    engine = _cached_engine(key, worker_threads(workers_on_host or {}))
    weights = window_weights(grid.tile)
    with SceneReader(scene) as reader:
        blocks = predict_panel(
            reader, engine.predict, grid, weights, panel, batch_size=batch_size,
            first_row=rows[0], last_row=rows[1], fill=make_filler(engine.spec),
        )  # fmt: skip
        parts = list(blocks)
    return (
        rows[0],
        panel.col0,
        np.concatenate([p for _, _, p, _ in parts]),
        np.concatenate([v for _, _, _, v in parts]),
    )


def _workers_on_host(client: Any) -> dict[str, int]:
    addresses = client.scheduler_info().get("workers", {})
    return dict(Counter(address.rsplit(":", 1)[0] for address in addresses))


def predict_rows_dask(
    client: Any,
    scene: Scene,
    key: EngineKey,
    grid: WindowGrid,
    batch_size: int,
    panel_px: int | None = None,
) -> Iterator[PanelBlock]:
    """Submit every block of every panel to ``client``; yield the results in order."""
    key = key._replace(digest=key.digest or model_hash(key.model))
    hosts = _workers_on_host(client)
    futures = [
        client.submit(predict_block, scene, key, grid, panel, batch_size, rows, hosts, pure=False)
        for panel in column_panels(grid, panel_px)
        for rows in row_blocks(grid)
    ]
    for future in futures:
        yield future.result()
        future.release()
