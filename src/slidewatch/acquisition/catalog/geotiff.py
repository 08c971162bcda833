"""STAC items of GeoTIFF band files (one band a file, as converted products are) and of a
DEM GeoTIFF, made with rio-stac (projection and raster fields read from each file).

Files are grouped into scenes by their names without the band token (``_B04``, ``_SCL``)
and resolution (``_10m``): ``T18LTP_20230601T150000_B04_10m.tif`` and ``…_B11_20m.tif`` are
one scene, ``T18LTP_20230601T150000``; files named only by their band (``B04.tif``) are
the scene of their folder. The band comes from the name, else from the file's band
description. What the files cannot say is read from the names or given: the sensing time
(``20230601T150000`` in the name, the ``IMAGERY`` domain's ``ACQUISITIONDATETIME`` tag, or
``--datetime``), the processing baseline (``_N0509`` in the name or
``--processing-baseline``; needed from 2022-01-25, when the +1000 offset began) and the
level (``L1C``/``L2A`` in the name, an SCL file (L2A), a B10 file (L1C), or ``--level``).
"In the name" is the file's name, else its folder's: band files kept in a folder named
after their product (``S2B_MSIL2A_20230701T150000_N0509_R111_T18LTP_…``) say all three.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.catalog.inputs import CatalogInputError
from slidewatch.acquisition.offset import (
    BASELINE_04_DATE,
    OFFSET_DN,
    REFLECTANCE_SCALE,
    baseline_has_offset,
)
from slidewatch.acquisition.stac.assets import ASSET_KEYS, COMMON_NAMES
from slidewatch.bands import band_from_description

if TYPE_CHECKING:
    import pystac

BAND_TOKEN = re.compile(r"(?:^|[_\-.])(B(?:0?[1-9]|1[0-2]|8A)|SCL)(?=$|[_\-.])", re.IGNORECASE)
RES_TOKEN = re.compile(r"[_\-.]\d{2}m(?=$|[_\-.])", re.IGNORECASE)
TIME_TOKEN = re.compile(r"(?<!\d)(\d{8}T\d{6})(?!\d)")
TILE_TOKEN = re.compile(r"(?:^|_)T(\d{2}[C-X][A-Z]{2})(?=$|_)")
BASELINE_TOKEN = re.compile(r"_N(\d{2})(\d{2})(?=$|_)")
LEVEL_TOKEN = re.compile(r"(?:^|_|MSI)(L1C|L2A)(?=$|_)", re.IGNORECASE)
SCL_CLOUD = (8, 9, 10)
"""SCL classes counted as cloud in ``eo:cloud_cover`` (medium, high probability, cirrus),
as the products' ``CLOUDY_PIXEL_PERCENTAGE`` counts them."""


@dataclass(frozen=True)
class GeoTiffOptions:
    """What GeoTIFF band files cannot say themselves (None/``auto``: read from names)."""

    level: str = "auto"
    """``L1C``, ``L2A`` or ``auto``."""
    datetime: datetime | None = None
    """Sensing time of every scene whose names and tags state none."""
    processing_baseline: str | None = None
    """``NN.NN`` of every scene whose names state none."""


def band_of(path: Path, description: str | None) -> str:
    """The L4S band (``B4``, ``B8A``) or ``SCL`` a single-band file holds."""
    match = BAND_TOKEN.search(RES_TOKEN.sub("", path.stem))
    if match:
        token = match.group(1).upper()
        return token if token in ("SCL", "B8A") else f"B{int(token[1:])}"
    band = band_from_description(description)
    if band is None or band in ("slope", "dem"):
        raise CatalogInputError(
            f"{path}: which Sentinel-2 band it holds is said neither by its name nor by its "
            "band description; rename it with the band (e.g. T18LTP_20230601T150000_B04.tif)"
        )
    return band


def scene_key(path: Path) -> str:
    """The name of a band file's scene: its name without band and resolution tokens, else
    its folder's name."""
    stem = RES_TOKEN.sub("", path.stem)
    key = BAND_TOKEN.sub("", stem).strip("_-. ")
    return key or path.parent.name


def _read(path: Path) -> dict[str, Any]:
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as ds:
            info = {
                "count": ds.count,
                "crs": ds.crs,
                "description": ds.descriptions[0] if ds.count else None,
                "acquired": ds.tags(ns="IMAGERY").get("ACQUISITIONDATETIME"),
                "res": abs(ds.transform.a),
            }
    except RasterioIOError as exc:
        raise CatalogInputError(f"{path}: not a readable GeoTIFF ({exc}); check the file") from exc
    if info["count"] != 1:
        raise CatalogInputError(
            f"{path}: {info['count']} bands in one file; catalog build takes one band per file "
            "as the products ship them: split it (gdal_translate -b N IN OUT_B04.tif)"
        )
    if info["crs"] is None:
        raise CatalogInputError(f"{path}: no CRS; georeference it (gdal_edit.py -a_srs EPSG:…)")
    return info


def geotiff_items(paths: Sequence[Path], options: GeoTiffOptions) -> list[tuple[pystac.Item, str]]:
    """One item per scene of ``paths`` with its level (``L1C``/``L2A``)."""
    scenes: dict[tuple[Path, str], list[Path]] = defaultdict(list)
    for path in paths:
        scenes[(path.parent, scene_key(path))].append(path)
    return [_scene_item(key, files, options) for (_, key), files in sorted(scenes.items())]


def _scene_bands(key: str, files: Sequence[Path]) -> dict[str, tuple[Path, dict[str, Any]]]:
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in files:
        info = _read(path)
        band = band_of(path, info["description"])
        if band in out:
            raise CatalogInputError(
                f"scene {key}: {out[band][0]} and {path} both hold {band}; keep one of them"
            )
        first = next(iter(out.values()), None)
        if first is not None and first[1]["crs"] != info["crs"]:
            raise CatalogInputError(
                f"scene {key}: {first[0].name} is in {first[1]['crs']} but {path.name} in "
                f"{info['crs']} (mixed CRSs); reproject the band files to one CRS, as a "
                "product's bands are"
            )
        out[band] = (path, info)
    return out


def _when(key: str, folder: Path, bands: dict[str, Any], options: GeoTiffOptions) -> datetime:
    match = TIME_TOKEN.search(key) or TIME_TOKEN.search(folder.name)
    if match:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    if options.datetime is not None:
        return (
            options.datetime.astimezone(UTC)
            if options.datetime.tzinfo
            else options.datetime.replace(tzinfo=UTC)
        )
    tagged = next((info["acquired"] for _, info in bands.values() if info["acquired"]), None)
    if tagged:
        from pystac.utils import str_to_datetime

        return str_to_datetime(tagged).astimezone(UTC)
    raise CatalogInputError(
        f"scene {key} ({folder}): no sensing time in its file names (like 20230601T150000) or "
        "tags; give it with --datetime 2023-06-01T15:00:00"
    )


def _baseline(key: str, folder: Path, when: datetime, options: GeoTiffOptions) -> str | None:
    match = BASELINE_TOKEN.search(key) or BASELINE_TOKEN.search(folder.name)
    baseline = f"{match.group(1)}.{match.group(2)}" if match else options.processing_baseline
    if baseline is None and when.date() >= BASELINE_04_DATE:
        raise CatalogInputError(
            f"scene {key} ({folder}) was sensed on {when.date()}, when products from processing "
            "baseline 04.00 on carry +1000 in every band, and its names do not state the "
            "baseline (like _N0509); give it with --processing-baseline (the product's own, "
            "e.g. 05.09)"
        )
    if baseline is not None:
        baseline_has_offset(baseline)  # a number like 04.00, else the error says so
    return baseline


def _level(key: str, folder: Path, bands: dict[str, Any], options: GeoTiffOptions) -> str:
    if options.level.upper() in ("L1C", "L2A"):
        return options.level.upper()
    match = LEVEL_TOKEN.search(key) or LEVEL_TOKEN.search(folder.name)
    if match:
        return match.group(1).upper()
    if "SCL" in bands:
        return "L2A"
    if "B10" in bands:
        return "L1C"
    raise CatalogInputError(
        f"scene {key} ({folder}): L1C or L2A? Its names say neither, and it has neither an "
        "SCL file (L2A) nor B10 (L1C); give --level l1c or --level l2a"
    )


def _scene_item(key: str, files: Sequence[Path], options: GeoTiffOptions) -> tuple[Any, str]:
    from rio_stac import create_stac_item

    folder = files[0].parent
    bands = _scene_bands(key, files)
    when = _when(key, folder, bands, options)
    baseline = _baseline(key, folder, when, options)
    level = _level(key, folder, bands, options)
    offset = OFFSET_DN if baseline is not None and baseline_has_offset(baseline) else 0.0
    finest = min(bands, key=lambda b: bands[b][1]["res"])
    item = None
    for band, (path, _) in sorted(bands.items(), key=lambda kv: kv[0] != finest):
        asset_key = "SCL" if band == "SCL" else ASSET_KEYS[band][0]
        made = create_stac_item(
            str(path), input_datetime=when, id=key, asset_name=asset_key, asset_roles=["data"],
            with_proj=True, with_raster=True,
        )  # fmt: skip
        asset = made.assets[asset_key]
        asset.extra_fields |= {k: v for k, v in made.properties.items() if k.startswith("proj:")}
        _describe(asset, band, offset)
        if item is None:
            item = made
        else:
            item.add_asset(asset_key, asset)
    assert item is not None  # a scene has at least one file
    _properties(item, key, folder, level, baseline, bands)
    return item, level


def _describe(asset: Any, band: str, offset: float) -> None:
    """eo:bands names and the raster fields fetch's offset rule reads."""
    raster = (asset.extra_fields.get("raster:bands") or [{}])[0]
    if raster.get("nodata") is None:
        raster["nodata"] = 0  # Sentinel-2's no-data value, also in converted files
    if band == "SCL":
        raster.pop("scale", None)
        raster.pop("offset", None)
    else:
        raster |= {"scale": REFLECTANCE_SCALE, "offset": -offset * REFLECTANCE_SCALE}
        eo = {"name": ASSET_KEYS[band][0]}
        if band in COMMON_NAMES:
            eo["common_name"] = COMMON_NAMES[band]
        asset.extra_fields["eo:bands"] = [eo]
    asset.extra_fields["raster:bands"] = [raster]


def _properties(
    item: Any, key: str, folder: Path, level: str, baseline: str | None, bands: dict[str, Any]
) -> None:
    props = item.properties
    for field in [
        k for k in props if k.startswith("proj:") and k not in ("proj:epsg", "proj:code")
    ]:
        del props[field]  # per asset: the files' grids differ by resolution
    props["s2:product_type"] = "S2MSI2A" if level == "L2A" else "S2MSI1C"
    if baseline is not None:
        props["s2:processing_baseline"] = baseline
    tile = TILE_TOKEN.search(key) or TILE_TOKEN.search(folder.name)
    if tile:
        props["s2:mgrs_tile"] = tile.group(1)
    if "SCL" in bands:
        props["eo:cloud_cover"] = scl_cloud_cover(bands["SCL"][0])


def scl_cloud_cover(path: Path) -> float:
    """% of an SCL file's pixels with data that are cloud (classes 8, 9, 10)."""
    import numpy as np
    import rasterio

    with rasterio.open(path) as ds:
        scl = ds.read(1)
    seen = int(np.count_nonzero(scl))
    return round(100.0 * float(np.isin(scl, SCL_CLOUD).sum()) / seen, 4) if seen else 100.0


def dem_item(path: Path) -> pystac.Item:
    """The item of a DEM GeoTIFF: asset ``data`` (the key fetch's DEM lookup reads first),
    dated by the file's time (a DEM has no sensing date; fetch does not filter DEMs by
    date)."""
    from rio_stac import create_stac_item

    _read(path)
    when = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return create_stac_item(
        str(path), input_datetime=when, id=path.stem, asset_name="data",
        asset_roles=["data"], with_proj=True, with_raster=True,
    )  # fmt: skip
