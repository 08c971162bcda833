"""Sentinel-2 and elevation from STAC: a STAC API (pystac-client) or a static catalogue
(pystac, the same filters applied locally); pixels through odc-stac, dask-chunked.

Resampling onto the 10 m grid: spectral bands and SCL by nearest neighbour (a 20 m or 60 m
pixel keeps its measured value, as Earth Engine does by default and as the L4S patches were
made; SCL is categorical), elevation bilinear (a 30 m DEM by nearest would give zero slope
inside each 30 m cell and cliffs between them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch.acquisition.clouds import s2cloudless_lacks
from slidewatch.acquisition.offset import forced_offset, stac_offset
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.served import NO_L2A, SPECTRAL, l2a_by_name
from slidewatch.acquisition.sources import Channel, SceneInfo, declared_nodata_as_nan
from slidewatch.acquisition.stac.assets import asset_keys_for
from slidewatch.acquisition.stac.finders import ItemFinder, ItemQuery, StaticFinder, is_static
from slidewatch.acquisition.stac.items import ParsedItem
from slidewatch.errors import NoSceneError, SourceError

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.aoi import AOI

HTTP_RETRY: dict[str, Any] = {"GDAL_HTTP_MAX_RETRY": 4, "GDAL_HTTP_RETRY_DELAY": 1}
"""GDAL's own retries (with backoff) of HTTP range requests answering 429/5xx."""
SPECTRAL_ASSETS = ("B2", "B3", "B4", "B8")
"""Bands whose raster:bands offset decides the item's offset (all bands share it)."""


def scene_info(item: ParsedItem, config: StacConfig) -> SceneInfo:
    """The :class:`SceneInfo` of a parsed item (its offset decided, its bands listed)."""
    if item.datetime is None:  # the date filter of every search keeps only dated items
        raise SourceError(f"item {item.id} states no datetime; fix the catalogue")
    if config.dn_offset != "auto":
        offset, rule = forced_offset(config.dn_offset)
    else:
        overrides = config.asset_key_overrides
        spectral = asset_keys_for(
            [b for b in SPECTRAL_ASSETS if _has(b, item, config)],
            item.id,
            item.asset_bands,
            overrides,
        )
        raster = [rb for key in spectral.values() for rb in item.assets[key].raster_bands]
        offset, rule = stac_offset(
            item.id,
            item.datetime,
            baseline=item.processing_baseline,
            raster_bands=raster,
            offset_applied=item.offset_applied,
        )
    return SceneInfo(
        id=item.id,
        datetime=item.datetime,
        tile=item.tile,
        processing_baseline=item.processing_baseline,
        cloud_cover=item.cloud_cover,
        dn_offset=offset,
        offset_rule=rule,
        processed=item.processed,
        asset_keys=tuple(sorted(item.assets)),
        pass_id=item.pass_id,
        served=served_bands(item, config),
        handle=item,
    )


def served_bands(item: ParsedItem, config: StacConfig) -> tuple[str, ...]:
    """The spectral L4S bands ``item`` has an asset for (through the asset table)."""
    return tuple(b for b in SPECTRAL if _has(b, item, config))


def _has(band: str, item: ParsedItem, config: StacConfig) -> bool:
    try:
        asset_keys_for([band], item.id, item.asset_bands, config.asset_key_overrides)
    except SourceError:
        return False
    return True


class StacSource:
    """An :class:`~slidewatch.acquisition.sources.ImagerySource` over a STAC catalogue."""

    def __init__(self, config: StacConfig, finder: ItemFinder) -> None:
        self.config = config
        self._finder = finder

    @property
    def catalogue(self) -> str:
        return self.config.stac_url

    def provenance(self) -> dict[str, str]:
        return {"slidewatch:source": self.config.kind, "slidewatch:stac_url": self.catalogue}

    def serves_b10(self) -> bool | None:
        """From the first item of a local static catalogue, else from the collection's name."""
        if isinstance(self._finder, StaticFinder):
            item = self._finder.first_item(self.config.collection)
            if item is not None:
                return NO_L2A in served_bands(item, self.config)
        by_name = l2a_by_name(self.config.collection)
        return None if by_name is None else not by_name

    def auto_cloud_mask(self, scenes: Sequence[SceneInfo]) -> str:
        """L2A's scene classification when every scene has it, else s2cloudless when every
        scene has the bands it reads, else none (:data:`~.clouds.NO_CLOUD_INPUTS`)."""
        if all({"SCL", "scl"} & set(s.asset_keys) for s in scenes):
            return "scl"
        if any(s2cloudless_lacks(s.served) for s in scenes):
            return "none"
        return "s2cloudless"

    def search(self, aoi: AOI, start: datetime, end: datetime, max_cloud: float) -> list[SceneInfo]:
        query = ItemQuery(self.config.collection, aoi, (start, end), max_cloud)
        return [scene_info(item, self.config) for item in self._finder.items(query)]

    def load(
        self, scenes: Sequence[SceneInfo], bands: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, Channel]:
        from slidewatch.acquisition.stac.native import (
            plan_coarse,
            repeat_onto,
            shift_of,
            split_by_grid,
        )

        items: list[ParsedItem] = [s.handle for s in scenes]
        keys = _common_keys(items, bands, self.config)
        # 20/60 m bands on their own grid, kept coarse in the graph (see .native).
        fine, coarse = split_by_grid(items, keys, geobox)
        out: dict[str, Channel] = {}
        if fine:
            data = _odc_load(items, list(fine.values()), geobox, chunk_px, _nearest(fine))
            out.update(
                {b: Channel(_as_float(data[k]), nodata=_nodata(data[k])) for b, k in fine.items()}
            )
        for grid, group in coarse:
            k = round(abs(grid.affine.a) / abs(geobox.affine.a))
            plan = plan_coarse(grid, geobox, chunk_px)
            chunk = -1 if plan == "whole" else max(chunk_px // k, 1)  # -1: one chunk
            data = _odc_load(items, list(group.values()), grid, chunk, _nearest(group))
            for band, key in group.items():
                raw, nodata = _as_float(data[key]), _nodata(data[key])
                if plan == "chunks":
                    out[band] = Channel(raw, k, nodata=nodata)
                elif plan == "whole":
                    out[band] = Channel(raw, k, shift_of(grid, geobox), nodata)
                else:
                    out[band] = Channel(repeat_onto(raw, grid, geobox, chunk_px), nodata=nodata)
        return {band: out[band] for band in keys}

    def load_dem(self, aoi: AOI, geobox: GeoBox, chunk_px: int) -> tuple[da.Array, str]:
        collection = self.config.dem_collection
        items = self._finder.items(ItemQuery(collection, aoi))
        if not items:
            raise NoSceneError(
                f"no elevation item in collection {collection!r} at {self.config.stac_url} "
                f"covers the AOI {aoi.bounds}; choose another --dem-collection"
            )
        first, overrides = items[0], self.config.asset_key_overrides
        key = asset_keys_for(["dem"], first.id, first.asset_bands, overrides)["dem"]
        data = _odc_load(items, [key], geobox, chunk_px, {key: "bilinear"})
        ids = ", ".join(sorted(i.id for i in items))
        dem = declared_nodata_as_nan(_as_float(data[key]), _nodata(data[key]))
        return dem, f"{collection} ({ids})"


def _nearest(keys: dict[str, str]) -> dict[str, str]:
    return {key: "nearest" for key in keys.values()}


def _common_keys(
    items: Sequence[ParsedItem], bands: Sequence[str], config: StacConfig
) -> dict[str, str]:
    """One asset key per band, the same for every item of a load (odc-stac needs that)."""
    overrides = config.asset_key_overrides
    tables = [asset_keys_for(bands, it.id, it.asset_bands, overrides) for it in items]
    for item, table in zip(items[1:], tables[1:], strict=True):
        if table != tables[0]:
            raise SourceError(
                f"items {items[0].id} and {item.id} name their assets differently "
                f"({tables[0]} vs {table}); fix the mapping with --asset-key BAND=KEY"
            )
    return tables[0]


def _odc_load(
    items: Sequence[ParsedItem],
    keys: list[str],
    geobox: GeoBox,
    chunk_px: int,
    resampling: dict[str, str],
) -> Any:
    import odc.stac

    # Remote COGs: GDAL retries 5xx answers itself (odc-stac applies this in every thread).
    odc.stac.configure_rio(cloud_defaults=True, **HTTP_RETRY)
    # One pixel plane for all items: the caller passes one acquisition (or the DEM tiles).
    return odc.stac.load(
        [item.item for item in items],
        bands=keys,
        geobox=geobox,
        chunks={"x": chunk_px, "y": chunk_px},
        groupby=lambda *_: 0,
        resampling=resampling,
        # float32 straight from the reader, nodata as NaN: no conversion pass afterwards.
        dtype="float32",
        fail_on_error=True,
    ).isel(time=0)


def _as_float(array: Any) -> da.Array:
    """The dask array of a band loaded as float32 (pixels no file covers and a file's own
    nodata without a ``raster:bands`` one: NaN; a ``raster:bands`` nodata: kept, see
    :func:`_nodata`)."""
    return array.data


def _nodata(array: Any) -> float | None:
    """The no-data value odc-stac still wrote in a loaded band: the assets' ``raster:bands``
    nodata (0 for Sentinel-2), which it keeps in float32 output as that number (None: NaN)."""
    value = array.attrs.get("nodata")
    return None if value is None or np.isnan(value) else float(value)


def open_stac_source(config: StacConfig) -> StacSource:
    """A :class:`StacSource` over a static catalogue or a STAC API, from ``config.stac_url``."""
    if is_static(config.stac_url):
        return StacSource(config, StaticFinder(config.stac_url))
    from slidewatch.acquisition.stac.api import ApiFinder

    return StacSource(config, ApiFinder(config))
