"""Which STAC asset holds which band: an explicit table, overridable per source.

Catalogues name Sentinel-2 assets differently: ESA's ``B04`` (Planetary Computer, most
static catalogues) or common names ``red`` (Earth Search). The table lists the accepted
keys of each band in order; failing those, an asset whose ``eo:bands`` entry names the band
(``name`` B04/B4 or the ``common_name``) is taken. An item with no matching asset is an
error naming the item, the band and the item's asset keys.

An item's assets are given as asset key → the band names its ``eo:bands`` state, upper case
(:attr:`~slidewatch.acquisition.stac.items.ParsedItem.asset_bands`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from slidewatch.errors import SourceError

ASSET_KEYS: dict[str, tuple[str, ...]] = {
    "B1": ("B01", "coastal"),
    "B2": ("B02", "blue"),
    "B3": ("B03", "green"),
    "B4": ("B04", "red"),
    "B5": ("B05", "rededge1"),
    "B6": ("B06", "rededge2"),
    "B7": ("B07", "rededge3"),
    "B8": ("B08", "nir"),
    "B8A": ("B8A", "nir08"),
    "B9": ("B09", "nir09"),
    "B10": ("B10", "cirrus"),
    "B11": ("B11", "swir16"),
    "B12": ("B12", "swir22"),
    "SCL": ("SCL", "scl"),
    "dem": ("data", "elevation", "dem"),
}
"""Accepted asset keys of each band, in order of preference (ESA name, then common name)."""

COMMON_NAMES: dict[str, str] = {
    "B1": "coastal",
    "B2": "blue",
    "B3": "green",
    "B4": "red",
    "B5": "rededge",
    "B8": "nir",
    "B8A": "nir08",
    "B9": "nir09",
    "B10": "cirrus",
    "B11": "swir16",
    "B12": "swir22",
}
"""eo:bands common names that identify a band on their own (B5-B7 share ``rededge``)."""


def _eo_match(band: str, assets: Mapping[str, Collection[str]]) -> str | None:
    wanted = {band.upper(), f"B{band[1:].zfill(2)}".upper() if band[1:].isdigit() else band}
    if band in COMMON_NAMES:
        wanted.add(COMMON_NAMES[band].upper())
    hits = [key for key, names in assets.items() if not wanted.isdisjoint(names)]
    return hits[0] if len(hits) == 1 else None


def asset_key(
    band: str,
    item_id: str,
    assets: Mapping[str, Collection[str]],
    overrides: Mapping[str, str] | None = None,
) -> str:
    """The key of the asset holding ``band`` in an item with ``assets`` (key → eo:bands names)."""
    if overrides and band in overrides:
        key = overrides[band]
        if key in assets:
            return key
        raise SourceError(
            f"item {item_id}: the asset key {key!r} given for {band} is not one of its assets "
            f"({', '.join(sorted(assets))}); fix --asset-key {band}=KEY"
        )
    for key in ASSET_KEYS.get(band, (band,)):
        if key in assets:
            return key
    found = _eo_match(band, assets)
    if found:
        return found
    if band == "B10":
        raise SourceError(
            f"item {item_id} has no asset for band B10 (its assets are "
            f"{', '.join(sorted(assets))}): Sentinel-2 L2A products have none (the L2A "
            "processor drops the cirrus band). Use --bands auto or l2a (the other 13), or "
            "for B10 fetch L1C: --source gee or an L1C --collection"
        )
    raise SourceError(
        f"item {item_id} has no asset for band {band} (looked for "
        f"{', '.join(ASSET_KEYS.get(band, (band,)))} and eo:bands); its assets are "
        f"{', '.join(sorted(assets))}. Map it with --asset-key {band}=KEY, or choose "
        "--bands without it"
    )


def asset_keys_for(
    bands: Sequence[str],
    item_id: str,
    assets: Mapping[str, Collection[str]],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``{band: asset key}`` of ``bands`` in one item (see :func:`asset_key`)."""
    return {band: asset_key(band, item_id, assets, overrides) for band in bands}
