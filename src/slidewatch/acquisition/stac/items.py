"""A STAC item parsed once into a frozen record (odc-stac's ``ParsedItem`` idea).

Everything the STAC source reads of an item — its footprint, time, cloud cover, tile, pass,
processing baseline, and per asset the band names of its ``eo:bands``, its ``raster:bands``
offset and scale and its ``proj:`` grid — is read here, once per item. The finders filter
these records; the source, the offset rule, the asset table and the native-grid rule read
them and never the item's JSON. The :class:`pystac.Item` itself is kept only for odc-stac,
which loads the pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.sources import pass_id

if TYPE_CHECKING:
    import pystac
    from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class RasterBand:
    """One ``raster:bands`` entry, as far as the offset rule reads it."""

    offset: float | None = None
    """``offset`` (reflectance units), None when not stated."""
    scale: float | None = None
    """``scale`` (reflectance per digital number), None when not stated."""


@dataclass(frozen=True)
class ParsedAsset:
    """One asset of an item."""

    key: str
    """The asset key (``B04``, ``red``, ``SCL``, ``data`` …)."""
    band_names: frozenset[str] = frozenset()
    """The names its ``eo:bands`` give (``name`` and ``common_name``), upper case."""
    raster_bands: tuple[RasterBand, ...] = ()
    """Its ``raster:bands`` entries."""
    crs: str | None = None
    """``EPSG:n`` (``proj:epsg``) or ``proj:code`` of the asset, else of the item."""
    transform: tuple[float, ...] | None = None
    """The six numbers of ``proj:transform`` of the asset, else of the item."""


@dataclass(frozen=True)
class ParsedItem:
    """What slidewatch reads of one STAC item (see the module docstring)."""

    id: str
    collection: str | None
    """The item's collection id; None when it names none."""
    datetime: datetime | None
    """The item's ``datetime``; None for an item that only states a range."""
    footprint: BaseGeometry | None
    """The item's geometry (lon/lat) as a shapely geometry; None when it has none."""
    cloud_cover: float | None
    """``eo:cloud_cover`` (%) as the catalogue states it."""
    tile: str
    """``s2:mgrs_tile``, ``grid:code`` or ``mgrs:utm_zone``; ``""`` when none."""
    processing_baseline: str
    """``s2:processing_baseline``; ``""`` when not stated."""
    processed: str
    """``s2:generation_time`` or ``updated``: orders re-processed copies."""
    pass_id: str
    """Platform and relative orbit (``sentinel-2a/R010``); ``""`` unless both are stated."""
    offset_applied: bool
    """``earthsearch:boa_offset_applied``: the catalogue removed the 04.00 offset already."""
    assets: Mapping[str, ParsedAsset]
    """Asset key → asset."""
    item: pystac.Item = field(compare=False, repr=False)
    """The item itself, for odc-stac."""

    def __hash__(self) -> int:
        return hash((self.collection, self.id))

    @cached_property
    def asset_bands(self) -> Mapping[str, frozenset[str]]:
        """Asset key → its ``eo:bands`` names: what the asset table reads."""
        return {key: asset.band_names for key, asset in self.assets.items()}


def parse_item(item: pystac.Item) -> ParsedItem:
    """The :class:`ParsedItem` of ``item``."""
    from shapely.geometry import shape

    props = item.properties
    cover = props.get("eo:cloud_cover")
    tile = props.get("s2:mgrs_tile") or props.get("grid:code") or props.get("mgrs:utm_zone", "")
    return ParsedItem(
        id=item.id,
        collection=item.collection_id,
        datetime=item.datetime,
        footprint=shape(item.geometry) if item.geometry else None,
        cloud_cover=cover if cover is None or isinstance(cover, int | float) else float(cover),
        tile=str(tile),
        processing_baseline=str(props.get("s2:processing_baseline", "") or ""),
        processed=str(props.get("s2:generation_time") or props.get("updated") or ""),
        pass_id=pass_id(props.get("platform"), props.get("sat:relative_orbit")),
        offset_applied=props.get("earthsearch:boa_offset_applied") is True,
        assets={key: _asset(key, asset.extra_fields, props) for key, asset in item.assets.items()},
        item=item,
    )


def _asset(key: str, fields: Mapping[str, Any], props: Mapping[str, Any]) -> ParsedAsset:
    names = {
        str(eo[name]).upper()
        for eo in fields.get("eo:bands", []) or []
        for name in ("name", "common_name")
        if eo.get(name)
    }
    raster = tuple(
        RasterBand(_number(rb.get("offset")), _number(rb.get("scale")))
        for rb in fields.get("raster:bands", []) or []
    )
    epsg = fields.get("proj:epsg", props.get("proj:epsg"))
    crs = f"EPSG:{epsg}" if epsg is not None else fields.get("proj:code", props.get("proj:code"))
    transform = fields.get("proj:transform", props.get("proj:transform"))
    return ParsedAsset(
        key=key,
        band_names=frozenset(names),
        raster_bands=raster,
        crs=crs,
        transform=tuple(float(v) for v in list(transform)[:6]) if transform else None,
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
