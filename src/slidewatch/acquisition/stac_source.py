"""Sentinel-2 and elevation from STAC: a STAC API (pystac-client) or a static catalogue
(pystac, the same filters applied locally); pixels through odc-stac, dask-chunked.

Resampling onto the 10 m grid: spectral bands and SCL by nearest neighbour (a 20 m or 60 m
pixel keeps its measured value, as Earth Engine does by default and as the L4S patches were
made; SCL is categorical), elevation bilinear (a 30 m DEM by nearest would give zero slope
inside each 30 m cell and cliffs between them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.assets import asset_keys_for
from slidewatch.acquisition.offset import forced_offset, stac_offset
from slidewatch.acquisition.served import SPECTRAL
from slidewatch.acquisition.sources import (
    Channel,
    ImagerySource,
    SceneInfo,
    SourceConfig,
    pass_id,
)
from slidewatch.errors import NoSceneError, SourceError

if TYPE_CHECKING:
    import dask.array as da
    import pystac
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.aoi import AOI

HTTP_RETRY: dict[str, Any] = {"GDAL_HTTP_MAX_RETRY": 4, "GDAL_HTTP_RETRY_DELAY": 1}
"""GDAL's own retries (with backoff) of HTTP range requests answering 429/5xx."""
SPECTRAL_ASSETS = ("B2", "B3", "B4", "B8")
"""Bands whose raster:bands offset decides the item's offset (all bands share it)."""


def is_static(url: str) -> bool:
    """Whether ``url`` names a static catalogue (a ``.json`` file) rather than a STAC API."""
    return url.startswith("file://") or url.endswith(".json") or Path(url).exists()


def _scene_info(item: pystac.Item, config: SourceConfig) -> SceneInfo:
    props = item.properties
    when = item.datetime or datetime.fromisoformat(str(props["start_datetime"]))
    assets = {k: a.to_dict() for k, a in item.assets.items()}
    if config.dn_offset != "auto":
        offset, rule = forced_offset(config.dn_offset)
    else:
        spectral = asset_keys_for(
            [b for b in SPECTRAL_ASSETS if _has(b, item.id, assets, config)],
            item.id,
            assets,
            config.asset_key_overrides,
        )
        raster = [rb for key in spectral.values() for rb in assets[key].get("raster:bands", [])]
        offset, rule = stac_offset(item.id, props, raster, when)
    tile = str(
        props.get("s2:mgrs_tile") or props.get("grid:code") or props.get("mgrs:utm_zone", "")
    )
    return SceneInfo(
        id=item.id,
        datetime=when,
        tile=tile,
        processing_baseline=str(props.get("s2:processing_baseline", "") or ""),
        cloud_cover=props.get("eo:cloud_cover"),
        dn_offset=offset,
        offset_rule=rule,
        processed=str(props.get("s2:generation_time") or props.get("updated") or ""),
        asset_keys=tuple(sorted(assets)),
        pass_id=pass_id(props.get("platform"), props.get("sat:relative_orbit")),
        served=served_bands(item, config),
        handle=item,
    )


def served_bands(item: pystac.Item, config: SourceConfig) -> tuple[str, ...]:
    """The spectral L4S bands ``item`` has an asset for (through the asset table)."""
    assets = {k: a.to_dict() for k, a in item.assets.items()}
    return tuple(b for b in SPECTRAL if _has(b, item.id, assets, config))


def _has(band: str, item_id: str, assets: dict[str, Any], config: SourceConfig) -> bool:
    try:
        asset_keys_for([band], item_id, assets, config.asset_key_overrides)
    except SourceError:
        return False
    return True


class StacSource:
    """An :class:`~slidewatch.acquisition.sources.ImagerySource` over a STAC catalogue."""

    def __init__(self, config: SourceConfig, finder: ItemFinder) -> None:
        self.config = config
        self._finder = finder

    def search(self, aoi: AOI, start: datetime, end: datetime, max_cloud: float) -> list[SceneInfo]:
        items = self._finder.items(self.config.collection, aoi, (start, end), max_cloud)
        return [_scene_info(item, self.config) for item in items]

    def load(
        self, scenes: Sequence[SceneInfo], bands: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, Channel]:
        from slidewatch.acquisition.native import (
            plan_coarse,
            repeat_onto,
            shift_of,
            split_by_grid,
        )

        items = [s.handle for s in scenes]
        keys = _common_keys(items, bands, self.config)
        # 20/60 m bands on their own grid, kept coarse in the graph (see .native).
        fine, coarse = split_by_grid(items, keys, geobox)
        out: dict[str, Channel] = {}
        if fine:
            data = _odc_load(items, list(fine.values()), geobox, chunk_px, _nearest(fine))
            out.update({band: Channel(_as_float(data[key])) for band, key in fine.items()})
        for grid, group in coarse:
            k = round(abs(grid.affine.a) / abs(geobox.affine.a))
            plan = plan_coarse(grid, geobox, chunk_px)
            chunk = -1 if plan == "whole" else max(chunk_px // k, 1)  # -1: one chunk
            data = _odc_load(items, list(group.values()), grid, chunk, _nearest(group))
            for band, key in group.items():
                raw = _as_float(data[key])
                if plan == "chunks":
                    out[band] = Channel(raw, k)
                elif plan == "whole":
                    out[band] = Channel(raw, k, shift_of(grid, geobox))
                else:
                    out[band] = Channel(repeat_onto(raw, grid, geobox, chunk_px))
        return {band: out[band] for band in keys}

    def load_dem(self, aoi: AOI, geobox: GeoBox, chunk_px: int) -> tuple[da.Array, str]:
        collection = self.config.dem_collection
        items = self._finder.items(collection, aoi, None, None)
        if not items:
            raise NoSceneError(
                f"no elevation item in collection {collection!r} at {self.config.stac_url} "
                f"covers the AOI {aoi.bounds}; choose another --dem-collection"
            )
        assets = {k: a.to_dict() for k, a in items[0].assets.items()}
        key = asset_keys_for(["dem"], items[0].id, assets, self.config.asset_key_overrides)["dem"]
        data = _odc_load(items, [key], geobox, chunk_px, {key: "bilinear"})
        ids = ", ".join(sorted(i.id for i in items))
        return _as_float(data[key]), f"{collection} ({ids})"


def _nearest(keys: dict[str, str]) -> dict[str, str]:
    return {key: "nearest" for key in keys.values()}


def _common_keys(
    items: Sequence[pystac.Item], bands: Sequence[str], config: SourceConfig
) -> dict[str, str]:
    """One asset key per band, the same for every item of a load (odc-stac needs that)."""
    tables = [
        asset_keys_for(
            bands, it.id, {k: a.to_dict() for k, a in it.assets.items()}, config.asset_key_overrides
        )
        for it in items
    ]
    for item, table in zip(items[1:], tables[1:], strict=True):
        if table != tables[0]:
            raise SourceError(
                f"items {items[0].id} and {item.id} name their assets differently "
                f"({tables[0]} vs {table}); fix the mapping with --asset-key BAND=KEY"
            )
    return tables[0]


def _odc_load(
    items: Sequence[pystac.Item],
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
        items,
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
    """The dask array of a band loaded as float32: odc-stac already wrote its nodata (0 for
    Sentinel-2) as NaN, whatever ``attrs["nodata"]`` still says."""
    return array.data


class ItemFinder:
    """Finds items of a collection over an AOI (and dates, cloud limit)."""

    def items(
        self,
        collection: str,
        aoi: AOI,
        dates: tuple[datetime, datetime] | None,
        max_cloud: float | None,
    ) -> list[pystac.Item]:
        raise NotImplementedError


def matches(
    item: pystac.Item, aoi: AOI, dates: tuple[datetime, datetime] | None, max_cloud: float | None
) -> bool:
    """The search filters, applied locally (static catalogues, and APIs without ``query``)."""
    from shapely.geometry import shape

    if item.geometry is None or not shape(item.geometry).intersects(aoi.geometry):
        return False
    if dates is not None and (item.datetime is None or not dates[0] <= item.datetime <= dates[1]):
        return False
    cover = item.properties.get("eo:cloud_cover")
    return max_cloud is None or cover is None or float(cover) <= max_cloud


class StaticFinder(ItemFinder):
    """Items of a static catalogue (``catalog.json``), walked once and filtered locally."""

    def __init__(self, url: str) -> None:
        import pystac

        path = url.removeprefix("file://")
        try:
            self._catalog = pystac.Catalog.from_file(path)
        except FileNotFoundError as exc:
            raise SourceError(f"{path}: no such STAC catalogue; check --stac-url") from exc
        except Exception as exc:  # pystac raises several types for unreadable JSON
            raise SourceError(f"{path}: not a readable STAC catalogue ({exc}); check it") from exc
        self._all: list[pystac.Item] | None = None

    def _items(self) -> Iterable[pystac.Item]:
        if self._all is None:
            self._all = list(self._catalog.get_items(recursive=True))
        return self._all

    def items(
        self,
        collection: str,
        aoi: AOI,
        dates: tuple[datetime, datetime] | None,
        max_cloud: float | None,
    ) -> list[pystac.Item]:
        return [
            it
            for it in self._items()
            if it.collection_id == collection and matches(it, aoi, dates, max_cloud)
        ]


def make_stac_source(config: SourceConfig) -> ImagerySource:
    """A :class:`StacSource` over a static catalogue or a STAC API, from ``config.stac_url``."""
    if is_static(config.stac_url):
        return StacSource(config, StaticFinder(config.stac_url))
    from slidewatch.acquisition.stac_api import ApiFinder

    return StacSource(config, ApiFinder(config))
