"""STAC items of SAFE products — folders or the Data Space's zips — by stactools-sentinel2.

stactools reads the product's own metadata (``manifest.safe``, ``MTD_MSIL*.xml``,
``MTD_TL.xml``): id, time, footprint, platform and orbit, processing baseline, cloud cover,
the tile's CRS and grids, and one asset per band file with ``eo:bands`` and ``raster:bands``
(scale, offset) plus the SCL asset of L2A. On top of it, from the same metadata and files:

- **offsets**: each band's ``raster:bands`` offset from the product's own list
  (``BOA_ADD_OFFSET`` of L2A, ``RADIO_ADD_OFFSET`` of L1C, from baseline 04.00; stactools
  reads only the former and infers L1C's from the baseline);
- **grids**: every band file is opened; its CRS must be the tile's, and its shape and
  transform are written to the asset (a damaged, missing or foreign file is an error naming
  it);
- **zips** are read where they are: the metadata files are read from the archive, and the
  assets point into it (``zip:///…/P.SAFE.zip!/P.SAFE/GRANULE/…``, GDAL's ``/vsizip/``), so
  nothing is unpacked.
"""

from __future__ import annotations

import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.catalog.inputs import CatalogInputError

if TYPE_CHECKING:
    import pystac

BAND_IDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10",
            "B11", "B12")  # fmt: skip
"""The products' ``band_id`` order (0 … 12) in their offset lists."""
OFFSET_ELEMENTS = ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET")
"""L2A's and L1C's per-band offsets (digital numbers, −1000 from baseline 04.00)."""


def safe_item(path: Path) -> pystac.Item:
    """The STAC item of the SAFE product at ``path`` (a ``.SAFE`` folder or a zip)."""
    if path.suffix.lower() == ".zip":
        return _zip_item(path)
    item = _create(str(path), path)
    _apply_offsets(item, path)
    _check_band_files(item, path, lambda href: Path(href).is_file(), str(path))
    return item


def _create(granule_href: str, source: Path) -> pystac.Item:
    try:
        from antimeridian import FixWindingWarning
        from stactools.sentinel2.stac import create_item
    except ModuleNotFoundError as exc:
        raise CatalogInputError(
            f"{source}: reading SAFE products needs the Python package {exc.name!r}; "
            "install it with: pip install 'slidewatch[catalog]'"
        ) from exc
    with warnings.catch_warnings():
        # Products list their footprint clockwise; antimeridian reverses it and says so.
        warnings.simplefilter("ignore", FixWindingWarning)
        try:
            return create_item(granule_href)
        except FileNotFoundError as exc:
            missing = Path(str(exc.filename or exc)).name
            raise CatalogInputError(
                f"{source}: its metadata file {missing} is missing: the product is "
                "incomplete; download it again"
            ) from exc
        except Exception as exc:  # stactools raises many types for unexpected metadata
            raise CatalogInputError(
                f"{source}: its metadata could not be read ({type(exc).__name__}: {exc}); "
                "it is not a complete Sentinel-2 L1C or L2A product: download it again"
            ) from exc


def product_offsets(metadata_xml: str) -> dict[str, float]:
    """ESA band name → offset (digital numbers) from a product's ``MTD_MSIL*.xml`` text;
    empty when it lists none (baselines before 04.00)."""
    root = ET.fromstring(metadata_xml)
    out = {}
    for tag in OFFSET_ELEMENTS:
        for element in root.iter(tag):
            band_id = int(element.get("band_id", "-1"))
            if 0 <= band_id < len(BAND_IDS) and element.text:
                out[BAND_IDS[band_id]] = float(element.text)
    return out


def _apply_offsets(item: pystac.Item, source: Path) -> None:
    """Each band's ``raster:bands`` offset from the product's own offset list."""
    metadata = item.assets.get("product_metadata")
    if metadata is None:
        return
    offsets = product_offsets(Path(metadata.href).read_text())
    for asset in item.assets.values():
        eo = asset.extra_fields.get("eo:bands") or []
        raster = asset.extra_fields.get("raster:bands") or []
        if len(eo) != 1 or len(raster) != 1 or eo[0].get("name") not in offsets:
            continue
        scale = raster[0].get("scale") or 1e-4
        raster[0]["offset"] = round(offsets[eo[0]["name"]] * scale, 6)


def _check_band_files(
    item: pystac.Item, source: Path, exists: Callable[[str], bool], prefix: str
) -> None:
    """Open every data asset: present, readable, in the tile's CRS; write its grid."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.errors import RasterioIOError

    props = item.properties
    tile_crs = CRS.from_user_input(props.get("proj:code") or f"EPSG:{props.get('proj:epsg')}")
    for asset in item.assets.values():
        if "data" not in (asset.roles or []) or "raster:bands" not in asset.extra_fields:
            continue
        name = asset.href.split("!/", 1)[-1].removeprefix(prefix).lstrip("/")
        if not exists(asset.href):
            raise CatalogInputError(
                f"{source}: the band file {name} its metadata lists is missing: the product "
                "is incomplete; download it again"
            )
        try:
            with rasterio.open(asset.href) as ds:
                crs, shape, transform, bounds = (
                    ds.crs,
                    (ds.height, ds.width),
                    ds.transform,
                    ds.bounds,
                )
        except RasterioIOError as exc:
            raise CatalogInputError(
                f"{source}: the band file {name} cannot be read ({exc}): the product is "
                "damaged; download it again"
            ) from exc
        if crs != tile_crs:
            raise CatalogInputError(
                f"{source}: the band file {name} is in {crs} but the tile's metadata says "
                f"{tile_crs.to_string()} (mixed CRSs): the product was altered; use it as "
                "downloaded"
            )
        asset.extra_fields["proj:shape"] = list(shape)
        asset.extra_fields["proj:transform"] = list(transform)[:6]
        asset.extra_fields["proj:bbox"] = list(bounds)


def _metadata_member(name: str, safe: str) -> bool:
    """Whether zip member ``name`` is one of the metadata files stactools reads."""
    parts = PurePosixPath(name).parts
    if not parts or parts[0] != safe or ".." in parts:
        return False
    inner = parts[1:]
    if len(inner) == 1:
        return inner[0] in ("manifest.safe", "INSPIRE.xml") or inner[0].startswith("MTD_MSIL")
    return len(inner) == 3 and inner[0] in ("GRANULE", "DATASTRIP") and inner[2].startswith("MTD_")


def _zip_item(path: Path) -> pystac.Item:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CatalogInputError(
            f"{path}: not a readable zip ({exc}): the download is truncated or damaged; "
            "download it again"
        ) from exc
    with archive, tempfile.TemporaryDirectory(prefix="slidewatch-safe-") as tmp:
        names = set(archive.namelist())
        safes = sorted(
            {n.split("/")[0] for n in names if n.split("/")[0].upper().endswith(".SAFE")}
        )
        if len(safes) != 1:
            what = "no .SAFE product folder" if not safes else f"{len(safes)} products"
            raise CatalogInputError(
                f"{path}: the zip holds {what}; give the zip of one product as the Copernicus "
                "Data Space delivers it (one .SAFE folder inside)"
            )
        safe = safes[0]
        _extract_metadata(archive, path, safe, Path(tmp))
        local = str(Path(tmp) / safe)
        item = _create(local, path)
        _apply_offsets(item, path)
        for asset in item.assets.values():
            if asset.href.startswith(local):
                asset.href = f"zip://{path}!/{safe}{asset.href[len(local) :]}"
        inside = {f"zip://{path}!/{n}" for n in names}
        _check_band_files(item, path, inside.__contains__, safe)
    return item


def _extract_metadata(archive: zipfile.ZipFile, path: Path, safe: str, tmp: Path) -> None:
    for name in archive.namelist():
        if not _metadata_member(name, safe):
            continue
        target = tmp.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(archive.read(name))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CatalogInputError(
                f"{path}: {name} cannot be read from the zip ({exc}): the download is "
                "damaged; download it again"
            ) from exc


def item_level(item: pystac.Item | Any) -> str:
    """``L2A`` or ``L1C`` from the item's ``s2:product_type`` (``S2MSI2A``/``S2MSI1C``)."""
    kind = str(item.properties.get("s2:product_type", ""))
    return "L1C" if kind.endswith("1C") else "L2A"
