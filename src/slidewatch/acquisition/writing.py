"""Writing a lazily computed stack block by block: the stack GeoTIFF, its mask raster and
the STAC item, each under a temporary name until everything succeeded."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch.acquisition.clouds import CIRRUS, CLEAR, CLOUD, MASK_CLASSES, SHADOW
from slidewatch.acquisition.provenance import Provenance, band_tags, write_stac_item
from slidewatch.atomic import atomic_output, remove_leftovers
from slidewatch.errors import NoSceneError, SlidewatchError, SourceError

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

TILE_PX = 512
"""Tile side of the stack GeoTIFF; chunks are whole numbers of tiles, so even (on a grid on
the 20 m lattice a 20 m pixel is never split between two chunks, see
:func:`~slidewatch.acquisition.stac.native.plan_coarse`)."""
BATCH_PER_THREAD = 2
"""Chunks computed per ``dask.store`` call, per thread: given the whole grid at once, dask's
threads load chunks far ahead of the writer and memory grows with the AOI (measured: +165 MB
from 1000² to 2000² px at once, +38 MB in batches)."""
N_CLASSES = len(MASK_CLASSES)


def tile_px(geobox: GeoBox) -> int:
    """The stack's tile side: :data:`TILE_PX`, or less for a grid smaller than one tile (a
    multiple of 16, as GeoTIFF requires): a 200 px stack in one 512 px tile would compress,
    and every reader decompress, 6.5 times its pixels."""
    return min(TILE_PX, -(-max(geobox.shape.y, geobox.shape.x) // 16) * 16)


def _profile(geobox: GeoBox, count: int, dtype: str, nodata: float | None) -> dict[str, Any]:
    return {
        "driver": "GTiff",
        "count": count,
        "dtype": dtype,
        "nodata": nodata,
        "height": geobox.shape.y,
        "width": geobox.shape.x,
        "crs": str(geobox.crs),
        "transform": geobox.affine,
        "tiled": True,
        "blockxsize": tile_px(geobox),
        "blockysize": tile_px(geobox),
        "compress": "zstd",
        "zstd_level": 1,
        "interleave": "band",  # per-band tiles: 25-35 % less CPU to compress, 13 % smaller, and
        # readers of a few bands (RGB tiles, quicklooks) decompress only those
        "predictor": 1,  # none: on the stacks measured, the float predictor cost time, not size
        "bigtiff": "if_safer",
        "num_threads": "all_cpus",
    }


class BlockWriter:
    """A dask ``store`` target: each computed block's bands go to the stack, its class to
    the mask, and the per-acquisition classes are counted (AOI cloud cover)."""

    def __init__(self, stack: Any, mask: Any, n_bands: int, n_acq: int) -> None:
        self.stack, self.mask, self.n_bands = stack, mask, n_bands
        self.counts = np.zeros((n_acq + 1, N_CLASSES), dtype=np.int64)
        self._lock = threading.Lock()

    def count(self, block: np.ndarray) -> np.ndarray:
        """Add a computed block's classes (the mask's, then each acquisition's) to the
        counts; return them as uint8."""
        classes = block[self.n_bands :].astype(np.uint8)
        counts = np.stack([np.bincount(c.ravel(), minlength=N_CLASSES) for c in classes])
        with self._lock:
            self.counts += counts
        return classes

    def __setitem__(self, key: tuple[slice, ...], block: np.ndarray) -> None:
        from rasterio.windows import Window

        _, rows, cols = key
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        classes = self.count(block)
        with self._lock:  # one GDAL dataset is written by one thread at a time
            self.stack.write(block[: self.n_bands], window=window)
            self.mask.write(classes[0], 1, window=window)


def chunk_batches(
    chunks: tuple[tuple[int, ...], ...], batch: int
) -> Iterator[list[tuple[tuple[int, int], tuple[slice, slice]]]]:
    """Row-major batches of up to ``batch`` chunks: ``((row, col) index, (rows, cols))``."""
    rows = np.cumsum((0, *chunks[0]))
    cols = np.cumsum((0, *chunks[1]))
    cells = [
        ((i, j), (slice(int(rows[i]), int(rows[i + 1])), slice(int(cols[j]), int(cols[j + 1]))))
        for i in range(len(chunks[0]))
        for j in range(len(chunks[1]))
    ]
    for k in range(0, len(cells), batch):
        yield cells[k : k + batch]


def compute_in_batches(lazy: da.Array, writer: BlockWriter, batch: int) -> None:
    """Compute ``lazy`` (C×H×W, one chunk along C) into ``writer``, ``batch`` chunks at a
    time. The graph is optimised once (``to_delayed``); each batch only culls it."""
    import dask

    parts = lazy.to_delayed(optimize_graph=True)[0]
    store = dask.delayed(_store, pure=False)
    for cells in chunk_batches(lazy.chunks[1:], batch):
        dask.compute(*[store(writer, parts[ij], region) for ij, region in cells])


def _store(writer: BlockWriter, block: np.ndarray, region: tuple[slice, slice]) -> None:
    writer[(slice(None), *region)] = block


def cover_in_aoi(counts: np.ndarray) -> tuple[float | None, ...]:
    """Per acquisition: % of the AOI pixels with data that were cloud, shadow or cirrus."""
    out: list[float | None] = []
    for row in counts:
        seen = row[[CLEAR, CLOUD, SHADOW, CIRRUS]].sum()
        cloudy = row[[CLOUD, SHADOW, CIRRUS]].sum()
        out.append(round(100.0 * float(cloudy) / float(seen), 3) if seen else None)
    return tuple(out)


@contextmanager
def quiet_memory_datasets() -> Iterator[None]:
    """Ignore rasterio's NotGeoreferencedWarning while dask threads read with odc-stac.

    Reprojecting a 20 m or 60 m band onto the 10 m grid makes rasterio wrap the output array
    in a ``MemoryDataset``, which opens without a transform (the warning) inside its own
    ``warnings.catch_warnings()``. That context manager swaps the process-wide filters, so
    two reader threads restoring each other's saved filters let the warning through now and
    then. Set once here, by the thread that starts the computation, the filter is part of
    every state the readers save and restore."""
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


@contextmanager
def reading_imagery() -> Iterator[None]:
    """Dask computations that read imagery: threads, the warning above handled, and any
    error of rasterio, odc-stac or GDAL turned into a :class:`SourceError`."""
    import dask
    import dask.threaded

    try:
        # The threaded scheduler itself, not its name: naming it makes dask import
        # dask.distributed (0.18 s) to look for a client, in every fresh process.
        with dask.config.set(scheduler=dask.threaded.get), quiet_memory_datasets():
            yield
    except SlidewatchError:
        raise
    except Exception as exc:  # rasterio/odc-stac/GDAL errors reading assets
        raise SourceError(
            f"reading the imagery failed: {exc}; check that the catalogue's assets are "
            "readable (nothing was written)"
        ) from exc


def write_stack(
    lazy: da.Array,
    out: Path,
    bands: Sequence[str],
    geobox: GeoBox,
    beside: tuple[Path, Path, Path | None],
    provenance: Callable[[tuple[float | None, ...], float], Provenance],
) -> tuple[tuple[float | None, ...], float]:
    """Compute ``lazy`` ((C + 1 + T)×H×W) and write ``out``, its mask, STAC item and
    picture (none when ``beside``'s third path is None); return (per-acquisition AOI
    cloud cover, clear fraction of the AOI)."""
    import rasterio

    from slidewatch.acquisition.quicklook import write_stack_picture

    mask_path, item_path, picture_path = beside
    for path in (out, mask_path, item_path, picture_path):  # a killed run's temporaries
        if path is not None:
            remove_leftovers(path)
    n_acq = lazy.shape[0] - len(bands) - 1
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_output(out, suffix=".tif"))
        tmp_mask = stack.enter_context(atomic_output(mask_path, suffix=".tif"))
        stack_profile = _profile(geobox, len(bands), "float32", float("nan"))
        dst = stack.enter_context(rasterio.open(tmp, "w", **stack_profile))
        msk = stack.enter_context(
            rasterio.open(tmp_mask, "w", **_profile(geobox, 1, "uint8", None))
        )
        writer = BlockWriter(dst, msk, len(bands), n_acq)
        with reading_imagery():
            compute_in_batches(lazy, writer, BATCH_PER_THREAD * (os.cpu_count() or 1))
        inside = writer.counts[0].sum() - writer.counts[0][5]
        clear = float(writer.counts[0][CLEAR] / inside) if inside else 0.0
        cover = cover_in_aoi(writer.counts[1:])
        if clear == 0.0:
            raise NoSceneError(
                f"no pixel of the AOI is clear in the {n_acq} acquisition(s) "
                f"(AOI cloud cover {list(cover)}%; nothing was written); widen the dates"
            )
        record = provenance(cover, clear)
        dst.descriptions = tuple(bands)
        dst.update_tags(**record.tags())
        for i, tags in enumerate(band_tags(bands), start=1):
            dst.update_tags(i, **tags)
        msk.descriptions = ("mask",)
        msk.update_tags(**{f"CLASS_{v}": name for v, name in MASK_CLASSES.items()})
        dst.close()
        msk.close()
        write_stac_item(tmp, out, mask_path, item_path, record, MASK_CLASSES, picture_path)
        if picture_path is not None:
            seen = [(a.date.isoformat(), a.scene_ids) for a in record.acquisitions]
            picture = stack.enter_context(atomic_output(picture_path, suffix=".png"))
            write_stack_picture(tmp, tmp_mask, picture, seen, clear, name=out.stem)
    return cover, clear
