"""Where imagery comes from: one protocol, the scenes it finds, and making a source.

The options of a source are one frozen value of its kind (:mod:`.options`, registered in
:data:`~.options.SOURCE_KINDS`); :func:`make_source` makes the source they describe. A
source searches a catalogue for Sentinel-2 scenes over an AOI and dates
(:meth:`ImagerySource.search`) and loads the bands of the scenes of one acquisition, and the
elevation, as lazy (dask) arrays on a grid (:meth:`ImagerySource.load`,
:meth:`ImagerySource.load_dem`). Everything after that — the offset, the L4S scale, clouds,
composites, slope, writing — is the same for every source (:mod:`.stack`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from slidewatch.acquisition.options import SourceConfig

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.aoi import AOI


@dataclass(frozen=True)
class SceneInfo:
    """One Sentinel-2 scene (a STAC item or an Earth Engine image) as found by a search."""

    id: str
    """Item / image id."""
    datetime: datetime
    """Acquisition time (UTC)."""
    tile: str
    """MGRS tile (e.g. ``18LTP``) or another footprint key; ``""`` when unknown."""
    processing_baseline: str
    """``"05.09"``-style baseline; ``""`` when the catalogue does not say."""
    cloud_cover: float | None
    """Scene cloud cover in %, as the catalogue states it."""
    dn_offset: float
    """Digital-number offset to subtract (1000 from baseline 04.00 unless harmonized)."""
    offset_rule: str
    """Why :attr:`dn_offset` is what it is (recorded in the provenance)."""
    processed: str = ""
    """When the scene was (re)processed (ISO time, or a sortable version); orders duplicates."""
    asset_keys: tuple[str, ...] = ()
    """The asset keys of the item (for error messages and the asset table)."""
    pass_id: str = ""
    """The satellite pass: platform and relative orbit (``sentinel-2a/R010``) when the
    catalogue says; ``""`` when it does not (scenes are then grouped by UTC day alone)."""
    served: tuple[str, ...] | None = None
    """The Sentinel-2 bands (B1…B12, B8A) the scene has assets for; None when the source
    cannot tell per scene (Earth Engine: decided by the collection, see :mod:`.served`)."""
    handle: Any = field(default=None, compare=False, hash=False, repr=False)
    """The source's own object (a :class:`pystac.Item`, an Earth Engine image id)."""

    @property
    def date(self) -> str:
        """UTC date ``YYYY-MM-DD``."""
        return self.datetime.strftime("%Y-%m-%d")


def pass_id(platform: Any, relative_orbit: Any) -> str:
    """``platform/Rnnn`` of a scene, or ``""`` unless the catalogue gives both."""
    if not platform or relative_orbit in (None, ""):
        return ""
    return f"{str(platform).lower()}/R{int(relative_orbit):03d}"


@dataclass(frozen=True)
class Channel:
    """One loaded band of an acquisition: raw digital numbers (float32, NaN = no data).

    ``factor`` 1: on the stack grid, chunked like it. Otherwise on a grid ``factor`` (k)
    times coarser (a 20 m or 60 m band on its own pixels, see :mod:`.native`) whose pixel
    (i, j) covers stack pixels [i·k − dy, i·k − dy + k) × [j·k − dx, …): with ``shift``
    None, (dy, dx) = (0, 0) and chunk (i, j) covers the stack's chunk (i, j); with a
    ``shift`` (dy, dx), the data is one chunk covering the whole grid."""

    data: da.Array
    factor: int = 1
    shift: tuple[int, int] | None = None
    nodata: float | None = None
    """The value the source declared as no data (an asset's ``raster:bands`` nodata, a
    file's nodata) where ``data`` still holds it; :func:`declared_nodata_as_nan` makes it
    NaN for every source (None: ``data`` holds NaN already)."""


def declared_nodata_as_nan(data: da.Array, nodata: float | None) -> da.Array:
    """``data`` with its declared no-data value as NaN: the one rule by which loaded pixels
    a product marks as unseen become the stack's no data (counted unseen, drawn grey)."""
    if nodata is None:
        return data
    import dask.array as da

    return da.where(data == np.float32(nodata), np.float32(np.nan), data).astype(np.float32)


class ImagerySource(Protocol):
    """What every imagery source does (see the module docstring). Everything that depends on
    where the imagery comes from is asked of the source, never decided from its kind."""

    @property
    def config(self) -> SourceConfig:
        """The options it was made with."""
        ...

    @property
    def catalogue(self) -> str:
        """Where it searches, as messages name it (a STAC URL, ``Earth Engine``)."""
        ...

    def provenance(self) -> dict[str, str]:
        """What a stack's provenance records of the source (``slidewatch:source``, …)."""
        ...

    def serves_b10(self) -> bool | None:
        """Whether the collection serves B10, known without the network; None: unknown."""
        ...

    def auto_cloud_mask(self, scenes: Sequence[SceneInfo]) -> str:
        """The cloud mask ``auto`` means for ``scenes`` (``scl``, ``s2cloudless``, …)."""
        ...

    def search(self, aoi: AOI, start: datetime, end: datetime, max_cloud: float) -> list[SceneInfo]:
        """Scenes over ``aoi`` from ``start`` to ``end`` (inclusive) at most ``max_cloud`` %."""
        ...

    def load(
        self, scenes: Sequence[SceneInfo], bands: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, Channel]:
        """The :class:`Channel` of each of ``bands`` — L4S names plus ``B8A``, ``SCL``,
        ``CLOUDPROB`` — of one acquisition's scenes mosaicked on ``geobox``, in chunks of
        ``chunk_px`` stack pixels."""
        ...

    def load_dem(self, aoi: AOI, geobox: GeoBox, chunk_px: int) -> tuple[da.Array, str]:
        """Elevation in metres (float32, NaN = no data) on ``geobox`` and a description of its
        source (collection and item ids)."""
        ...


def make_source(config: SourceConfig) -> ImagerySource:
    """The source ``config`` describes (its module imported now: Earth Engine only when
    asked). Making one reaches no catalogue or service: that waits for the first search."""
    import importlib

    module, attr = config.opener.split(":")
    opener = getattr(importlib.import_module(module), attr)
    source: ImagerySource = opener(config)
    return source


@functools.lru_cache(maxsize=16)
def kept_source(config: SourceConfig) -> ImagerySource:
    """The source of ``config``, made once per process: what a caller that searches again and
    again (monitoring) uses, so that a static catalogue is walked once while it is unchanged
    and a STAC API's client is opened once."""
    return make_source(config)
