"""``build_catalog``: imagery a user already has → a static STAC catalogue ``fetch`` reads.

The catalogue has one collection per level — ``sentinel-2-l2a`` (fetch's default) and
``sentinel-2-l1c`` — and the DEM's collection (``cop-dem-glo-30`` unless named: the
collection fetch's ``--dem-collection`` looks in by default; the item's asset is ``data``,
the key its DEM lookup reads first). Items keep absolute asset hrefs to the user's files
(nothing is copied); the catalogue's own links are relative, so the folder can move as long
as the products stay. Building into an existing catalogue adds the new items; an item with
an id already there replaces it (a product downloaded again, or processed again: the same
id). Every JSON file is written under a temporary name and renamed, the root last, so a
failed build leaves the catalogue as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.catalog.geotiff import GeoTiffOptions, dem_item, geotiff_items
from slidewatch.acquisition.catalog.inputs import CatalogInputError, sort_inputs
from slidewatch.acquisition.catalog.safe import item_level, safe_item
from slidewatch.acquisition.options import DEFAULT_COLLECTION, DEFAULT_DEM_COLLECTION

if TYPE_CHECKING:
    import pystac

L1C_COLLECTION = "sentinel-2-l1c"
COLLECTIONS = {"L2A": DEFAULT_COLLECTION, "L1C": L1C_COLLECTION}
"""The collection of each level."""
DESCRIPTIONS = {
    DEFAULT_COLLECTION: "Sentinel-2 L2A products on this machine (catalogued by slidewatch)",
    L1C_COLLECTION: "Sentinel-2 L1C products on this machine (catalogued by slidewatch)",
}


@dataclass(frozen=True)
class CatalogedItem:
    """One item written, as ``catalog build`` reports it."""

    id: str
    collection: str
    source: str
    """The product, zip, folder or file it was made from."""
    datetime: datetime | None
    """Sensing time; None for elevation (a DEM has none)."""
    processing_baseline: str
    cloud_cover: float | None
    offset_dn: float | None
    """The digital numbers fetch will remove (:func:`fetch_offset`; None for elevation)."""
    assets: tuple[str, ...]
    replaced: bool
    """An item of this id was in the catalogue and was replaced."""


@dataclass(frozen=True)
class CatalogResult:
    """What :func:`build_catalog` wrote."""

    path: Path
    """The root ``catalog.json``."""
    items: tuple[CatalogedItem, ...]
    collections: dict[str, int]
    """Collection id → its number of items after the build."""
    dem_collection: str | None
    """The DEM's collection when the catalogue has one."""


def build_catalog(
    paths: Iterable[str | Path],
    out: str | Path,
    *,
    dems: Sequence[str | Path] = (),
    dem_collection: str = DEFAULT_DEM_COLLECTION,
    geotiff: GeoTiffOptions | None = None,
) -> CatalogResult:
    """Write (or add to) the static STAC catalogue ``out/catalog.json`` from SAFE products,
    zips and GeoTIFF band files (``paths``) and DEM GeoTIFFs (``dems``)."""
    import pystac

    inputs = sort_inputs(paths)
    made: list[tuple[Any, str, str]] = []  # (item, collection, source)
    for product in inputs.products:
        item = safe_item(product)
        made.append((item, COLLECTIONS[item_level(item)], str(product)))
    for item, level in geotiff_items(inputs.geotiffs, geotiff or GeoTiffOptions()):
        made.append((item, COLLECTIONS[level], _asset_folder(item)))
    for dem in dems:
        path = _existing(Path(dem))
        made.append((dem_item(path), dem_collection, str(path)))
    _refuse_duplicates(made)
    root = Path(out).expanduser().absolute()
    catalog = _open_or_new(root)
    reports = [
        _add(catalog, item, collection, source, elevation=collection == dem_collection)
        for item, collection, source in made
    ]
    for child in catalog.get_children():
        if isinstance(child, pystac.Collection):
            child.update_extent_from_items()
    _save(catalog, root)
    counts = {c.id: len(list(c.get_items())) for c in catalog.get_children()}
    has_dem = dem_collection in counts
    return CatalogResult(
        root / "catalog.json", tuple(reports), counts, dem_collection if has_dem else None
    )


def _existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    if not path.is_file():
        raise CatalogInputError(f"{path}: no such DEM file; check the --dem path")
    return path


def _asset_folder(item: Any) -> str:
    return str(Path(next(iter(item.assets.values())).href).parent)


def _refuse_duplicates(made: Sequence[tuple[Any, str, str]]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for item, collection, source in made:
        key = (collection, item.id)
        if key in seen:
            raise CatalogInputError(
                f"{seen[key]} and {source} are the same product ({item.id}); give one of them"
            )
        seen[key] = source


def _open_or_new(root: Path) -> pystac.Catalog:
    import pystac

    index = root / "catalog.json"
    if index.exists():
        try:
            catalog = pystac.Catalog.from_file(str(index))
        except Exception as exc:  # pystac raises several types for unreadable JSON
            raise CatalogInputError(
                f"{index}: not a readable STAC catalogue ({exc}); choose another --out"
            ) from exc
        catalog.make_all_asset_hrefs_absolute()
        return catalog
    if root.exists() and any(root.iterdir()):
        raise CatalogInputError(
            f"{root}: a folder that holds other files and no catalog.json; choose an empty or "
            "new folder for --out (or an existing catalogue to add to)"
        )
    return pystac.Catalog(
        id="slidewatch-local",
        description="Imagery and elevation on this machine, catalogued by slidewatch catalog build",
    )


def _collection(catalog: Any, name: str) -> Any:
    import pystac

    existing = catalog.get_child(name)
    if existing is not None:
        return existing
    extent = pystac.Extent(
        pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
        pystac.TemporalExtent([[datetime(2015, 6, 23, tzinfo=UTC), None]]),
    )
    description = DESCRIPTIONS.get(name, "Elevation on this machine (catalogued by slidewatch)")
    collection = pystac.Collection(name, description, extent)
    catalog.add_child(collection)
    return collection


def _add(
    catalog: Any, item: Any, collection_id: str, source: str, elevation: bool
) -> CatalogedItem:
    collection = _collection(catalog, collection_id)
    replaced = collection.get_item(item.id) is not None
    if replaced:
        collection.remove_item(item.id)
    collection.add_item(item)
    props = item.properties
    return CatalogedItem(
        id=item.id,
        collection=collection_id,
        source=source,
        datetime=None if elevation else item.datetime,
        processing_baseline=str(props.get("s2:processing_baseline", "")),
        cloud_cover=props.get("eo:cloud_cover"),
        offset_dn=None if elevation else fetch_offset(item),
        assets=tuple(item.assets),
        replaced=replaced,
    )


def fetch_offset(item: Any) -> float | None:
    """The digital numbers ``fetch`` will remove from ``item``'s bands (its offset rule on
    the parsed item); None when the rule cannot decide (fetch then asks for --dn-offset)."""
    from slidewatch.acquisition.offset import stac_offset
    from slidewatch.acquisition.stac.items import parse_item
    from slidewatch.errors import SourceError

    parsed = parse_item(item)
    raster = [rb for a in parsed.assets.values() if a.band_names for rb in a.raster_bands]
    if parsed.datetime is None:
        return None
    try:
        offset, _ = stac_offset(
            parsed.id, parsed.datetime, baseline=parsed.processing_baseline, raster_bands=raster
        )
    except SourceError:
        return None
    return offset


def _save(catalog: Any, root: Path) -> None:
    """Write the catalogue into a staging folder, then move each file into ``root``: items,
    then collections, then ``catalog.json``."""
    import pystac

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".catalog-", dir=root))
    try:
        catalog.normalize_hrefs(str(staging))
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
        files = sorted(
            staging.rglob("*.json"), key=lambda p: (-len(p.relative_to(staging).parts), str(p))
        )
        for path in files:  # deepest first: items, collections, the root
            target = root / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        catalog.normalize_hrefs(str(root))
