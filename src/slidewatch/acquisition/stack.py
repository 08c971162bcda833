"""``fetch_stack``: an AOI and dates in, a detection-ready L4S stack out.

Search → acquisitions (duplicates removed, cloud limit) → for each, the bands and the cloud
input loaded lazily on the AOI's 10 m UTM grid, offset removed → per-pixel composite and
mask classes → slope and DEM → L4S scale, nodata where not clear → written block by block
(dask computes chunks in parallel; each finished chunk is written and dropped, so memory
does not grow with the AOI) under temporary names, renamed when complete.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch.acquisition.acquisitions import Acquisition, as_utc_range, group_acquisitions
from slidewatch.acquisition.aoi import AOI, utm_grid
from slidewatch.acquisition.blocks import BlockSpec, composite_block, finish_block, inside_aoi
from slidewatch.acquisition.clouds import cloud_inputs, decide_cloud_mask
from slidewatch.acquisition.options import SourceConfig
from slidewatch.acquisition.provenance import Provenance
from slidewatch.acquisition.served import choose_bands
from slidewatch.acquisition.sources import (
    Channel,
    ImagerySource,
    declared_nodata_as_nan,
    make_source,
)
from slidewatch.acquisition.writing import TILE_PX, tile_px
from slidewatch.bands import scale_vector
from slidewatch.errors import NoSceneError, SourceError

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

CHUNK_PX = 2 * TILE_PX
"""Side of the square chunks computed and written at once (2 × 2 tiles of the stack GeoTIFF)."""
TERRAIN = ("slope", "dem")


@dataclass(frozen=True)
class StackResult:
    """What :func:`fetch_stack` wrote and what it was made from."""

    path: Path
    """The stack GeoTIFF (float32, L4S scale, NaN = nodata, band descriptions = L4S names)."""
    mask_path: Path
    """uint8 mask raster on the same grid (:data:`~slidewatch.acquisition.clouds.MASK_CLASSES`)."""
    item_path: Path
    """STAC item JSON describing the stack (provenance)."""
    picture_path: Path | None
    """``NAME.png``: true colour, unseen ground grey, scene ids and dates, a scale bar (None
    when the caller asked for no picture)."""
    bands: tuple[str, ...]
    acquisitions: tuple[Acquisition, ...]
    scene_ids: tuple[str, ...]
    datetimes: tuple[datetime, ...]
    cloud_cover_scene: tuple[float | None, ...]
    cloud_cover_aoi: tuple[float | None, ...]
    """Per acquisition: % of the AOI with data that was cloud, shadow or cirrus."""
    clear_fraction: float
    """Fraction of the AOI holding values in the stack."""
    dem_source: str | None
    offsets_removed: tuple[str, ...]
    """Per scene: the offset removed and why."""
    cloud_mask: str
    cloud_note: str
    """Why ``--cloud-mask auto`` chose none (:data:`~.clouds.NO_CLOUD_INPUTS`), else ``""``."""
    band_note: str
    """Why ``--bands auto`` left a band out (B10 of L2A); empty when nothing was."""
    shape: tuple[int, int]
    crs: str


def stack_paths(out: Path) -> tuple[Path, Path, Path]:
    """``(mask, item, picture)`` paths beside a stack: ``NAME.mask.tif``, ``NAME.json`` and
    ``NAME.png``."""
    return out.with_name(f"{out.stem}.mask.tif"), out.with_suffix(".json"), out.with_suffix(".png")


def usable_acquisitions(
    source: ImagerySource, aoi: AOI, start: date | datetime, end: date | datetime
) -> list[Acquisition]:
    """The acquisitions to composite, or :class:`NoSceneError` saying what was searched."""
    config = source.config
    lo, hi = as_utc_range(start, end)
    scenes = source.search(aoi, lo, hi, 100.0)
    what = (
        f"collection {config.collection!r} at {source.catalogue}, {lo.date()} to {hi.date()}, "
        f"AOI {tuple(round(v, 5) for v in aoi.bounds)}"
    )
    if not scenes:
        raise NoSceneError(f"no scene found ({what}); widen the dates or check the collection")
    ok = [s for s in scenes if s.cloud_cover is None or s.cloud_cover <= config.max_cloud]
    if not ok:
        lowest = min(float(s.cloud_cover or 0) for s in scenes)
        raise NoSceneError(
            f"all {len(scenes)} scenes found ({what}) are cloudier than --max-cloud "
            f"{config.max_cloud:g}% (the clearest: {lowest:g}%); raise --max-cloud or widen "
            "the dates"
        )
    return group_acquisitions(ok)


def _acquisition_offset(acq: Acquisition) -> float:
    offsets = {s.dn_offset for s in acq.scenes}
    if len(offsets) > 1:
        raise SourceError(
            f"the scenes of {acq.date} ({', '.join(acq.scene_ids)}) need different offsets "
            f"({sorted(offsets)}); fetch one tile at a time or set --dn-offset"
        )
    return offsets.pop()


def load_channels(
    source: ImagerySource,
    acquisitions: Sequence[Acquisition],
    spec: BlockSpec,
    geobox: GeoBox,
    chunk_px: int,
) -> list[Channel]:
    """Every acquisition's loaded channels (lazy raw digital numbers, chunked like the stack
    grid's chunks of ``chunk_px``), in acquisition then :attr:`BlockSpec.loaded` order."""
    channels = []
    for acq in acquisitions:
        loaded = source.load(acq.scenes, spec.loaded, geobox, chunk_px)
        for band in spec.loaded:
            ch = loaded[band]
            ch = Channel(declared_nodata_as_nan(ch.data, ch.nodata), ch.factor, ch.shift)
            if ch.shift is None:  # chunk (i, j) covers the grid's chunk (i, j)
                ch = Channel(ch.data.rechunk(chunk_px // ch.factor), ch.factor)
            channels.append(ch)
    return channels


def composite_stack(
    source: ImagerySource,
    aoi: AOI,
    acquisitions: Sequence[Acquisition],
    bands: Sequence[str],
    spec: BlockSpec,
    geobox: GeoBox,
    chunk_px: int,
) -> tuple[da.Array, str | None]:
    """(C_out + 1 + T)×H×W lazy: the stack (L4S), the mask class, each acquisition's class;
    and the DEM's source (None without terrain bands)."""
    import dask.array as da
    from dask.array.core import normalize_chunks

    from slidewatch.acquisition.terrain import padded, terrain_block
    from slidewatch.acquisition.writing import reading_imagery

    t_count, n_s2 = len(acquisitions), len(spec.s2_bands)
    # Blockwise over all channels (no stack + rechunk): dask finishes one chunk of the grid
    # before loading the next, so memory stays per chunk. Chunk (i, j) of every channel,
    # coarse or not, covers chunk (i, j) of the grid (a channel in one chunk: all of it).
    channels = load_channels(source, acquisitions, spec, geobox, chunk_px)
    grid_chunks = normalize_chunks(chunk_px, (geobox.shape.y, geobox.shape.x))
    comp = da.map_blocks(
        composite_block,
        *[ch.data for ch in channels],
        spec=spec,
        layouts=tuple((ch.factor, ch.shift) for ch in channels),
        dtype=np.float32,
        new_axis=0,
        chunks=((n_s2 + 1 + t_count,), *grid_chunks),
    )
    dem_padded, dem_source = None, None
    if any(b in TERRAIN for b in bands):
        dem, dem_source = source.load_dem(aoi, padded(geobox), chunk_px)
        # Held in memory (4 bytes a pixel): each block's slope needs its neighbours' edge
        # rows; reading them from one array is cheaper than dask's overlap and rechunk.
        with reading_imagery():
            dem_padded = np.asarray(dem.compute(), dtype=np.float32)
    names = list(spec.s2_bands) + ([*TERRAIN] if dem_padded is not None else [])
    order = [names.index(b) for b in bands]
    geometry, affine, divisors = aoi.projected(), geobox.affine, scale_vector(bands)

    def finish(comp_block: Any, block_info: Any = None) -> Any:
        from affine import Affine

        (_, (y0, y1), (x0, x1)) = block_info[0]["array-location"]
        transform = affine * Affine.translation(x0, y0)
        inside = inside_aoi(geometry, transform, (y1 - y0, x1 - x0))
        terrain = (
            None if dem_padded is None else terrain_block(dem_padded, (y0, y1), (x0, x1), geobox)
        )
        return finish_block(comp_block, terrain, inside, order, divisors, n_s2)

    out = da.map_blocks(
        finish,
        comp,
        dtype=np.float32,
        chunks=((len(bands) + 1 + t_count,), *comp.chunks[1:]),
        name=f"slidewatch-stack-{uuid.uuid4().hex}",  # no hashing of the DEM in the closure
    )
    return out, dem_source


def fetch_stack(
    config: SourceConfig,
    aoi: AOI,
    start: date | datetime,
    end: date | datetime,
    out: Path,
    *,
    bands: str | None = None,
    composite: str | None = None,
    command: str | None = None,
    acquisitions: Sequence[Acquisition] | None = None,
    chunk_px: int = CHUNK_PX,
    picture: bool = True,
) -> StackResult:
    """Fetch, composite and write the L4S stack of ``aoi`` from ``start`` to ``end`` at
    ``out`` (plus ``NAME.mask.tif`` and ``NAME.json``; see the module docstring).

    ``bands``/``composite`` override ``config``'s; ``acquisitions`` (from
    :func:`~slidewatch.acquisition.acquisitions.search_acquisitions`) skips the search;
    ``picture=False`` skips ``NAME.png`` (half a second a stack: monitoring, which archives
    an RGB product of its own, does not draw it)."""
    from dataclasses import replace

    from slidewatch.acquisition.writing import write_stack

    config = replace(config, bands=bands or config.bands, composite=composite or config.composite)
    source = make_source(config)
    acqs = list(acquisitions) if acquisitions else usable_acquisitions(source, aoi, start, end)
    choice = choose_bands(config, [s for a in acqs for s in a.scenes])
    names = choice.names
    method, cloud_note = decide_cloud_mask(source, acqs)
    s2_bands = tuple(b for b in names if b not in TERRAIN)
    spec = BlockSpec(
        s2_bands=s2_bands,
        cloud_inputs=cloud_inputs(method, s2_bands),
        cloud_mask=method,
        composite=config.composite,
        offsets=tuple(_acquisition_offset(a) for a in acqs),
    )
    geobox = utm_grid(aoi)
    if (tile := tile_px(geobox)) < TILE_PX:  # a small AOI: one chunk, one tile of its size
        chunk_px = min(chunk_px, tile)
    mask_file, item_file, picture_file = stack_paths(Path(out))
    paths = (mask_file, item_file, picture_file if picture else None)
    lazy, dem_source = composite_stack(source, aoi, acqs, names, spec, geobox, chunk_px)
    cover_aoi, clear = write_stack(
        lazy,
        Path(out),
        names,
        geobox,
        paths,
        lambda cover, clear_fraction: Provenance(
            config=config,
            source=source.provenance(),
            acquisitions=tuple(acqs),
            bands=names,
            cloud_mask=method,
            cloud_cover_aoi=cover,
            clear_fraction=clear_fraction,
            dem_source=dem_source,
            command=command,
            band_note=choice.note,
        ),
    )
    mask_path, item_path, picture_path = paths
    scenes = [s for a in acqs for s in a.scenes]
    return StackResult(
        path=Path(out),
        mask_path=mask_path,
        item_path=item_path,
        picture_path=picture_path,
        bands=names,
        acquisitions=tuple(acqs),
        scene_ids=tuple(s.id for s in scenes),
        datetimes=tuple(s.datetime for s in scenes),
        cloud_cover_scene=tuple(s.cloud_cover for s in scenes),
        cloud_cover_aoi=cover_aoi,
        clear_fraction=clear,
        dem_source=dem_source,
        offsets_removed=tuple(f"{s.id}: {s.offset_rule}" for s in scenes),
        cloud_mask=method,
        cloud_note=cloud_note,
        band_note=choice.note,
        shape=(geobox.shape.y, geobox.shape.x),
        crs=aoi.crs,
    )
