"""What the user gave ``catalog build``: SAFE products (folders or zips) and GeoTIFF band
files, each path sorted into one of them or refused with the reason and the fix.

A path is a SAFE product when it is a folder holding ``manifest.safe`` or an
``MTD_MSIL1C.xml``/``MTD_MSIL2A.xml``, or a zip holding one ``.SAFE`` folder (the Copernicus
Data Space's download); a ``.tif``/``.tiff`` file is a GeoTIFF band file; any other folder is
looked into, one level deep, for those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slidewatch.errors import SourceError

PRODUCT_METADATA = ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml")
"""The product metadata file of each level (L2A, L1C)."""
GEOTIFF_SUFFIXES = (".tif", ".tiff")


class CatalogInputError(SourceError, ValueError):
    """A path given to ``catalog build`` is not a product, is incomplete or damaged."""


@dataclass(frozen=True)
class Inputs:
    """The paths of a ``catalog build``, sorted."""

    products: tuple[Path, ...]
    """SAFE product folders and zips."""
    geotiffs: tuple[Path, ...]
    """GeoTIFF band files."""


def is_safe_folder(path: Path) -> bool:
    """Whether ``path`` is a SAFE product folder (it holds its manifest or product metadata)."""
    return path.is_dir() and any(
        (path / name).is_file() for name in ("manifest.safe", *PRODUCT_METADATA)
    )


def _not_a_product(path: Path) -> CatalogInputError:
    if path.name.upper().endswith(".SAFE"):
        return CatalogInputError(
            f"{path}: a .SAFE folder without manifest.safe or {' / '.join(PRODUCT_METADATA)}: "
            "the product is incomplete (an interrupted download or unpacking); download it again"
        )
    return CatalogInputError(
        f"{path}: neither a Sentinel-2 product (a .SAFE folder or its .zip) nor GeoTIFF band "
        "files, and it holds none; give the products' .SAFE folders or .zip files as "
        "downloaded from the Copernicus Data Space, or GeoTIFF files with one band each"
    )


def _from_folder(path: Path) -> tuple[list[Path], list[Path]]:
    if is_safe_folder(path):
        return [path], []
    if path.name.upper().endswith(".SAFE"):
        raise _not_a_product(path)
    children = sorted(path.iterdir())
    products = [c for c in children if is_safe_folder(c) or c.suffix.lower() == ".zip"]
    tiffs = [c for c in children if c.is_file() and c.suffix.lower() in GEOTIFF_SUFFIXES]
    if not products and not tiffs:
        raise _not_a_product(path)
    return products, tiffs


def sort_inputs(paths: Iterable[str | Path]) -> Inputs:
    """Sort ``paths`` into SAFE products and GeoTIFF band files (see the module docstring)."""
    products: list[Path] = []
    tiffs: list[Path] = []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if not path.exists():
            raise CatalogInputError(f"{path}: no such file or folder; check the path")
        if path.is_dir():
            more_products, more_tiffs = _from_folder(path)
            products += more_products
            tiffs += more_tiffs
        elif path.suffix.lower() == ".zip":
            products.append(path)
        elif path.suffix.lower() in GEOTIFF_SUFFIXES:
            tiffs.append(path)
        else:
            raise CatalogInputError(
                f"{path}: not a Sentinel-2 product (.SAFE folder or .zip) nor a GeoTIFF "
                "(.tif); give products as downloaded, or GeoTIFF band files"
            )
    if not products and not tiffs:
        raise CatalogInputError("no input given; name SAFE products, zips or GeoTIFF files")
    return Inputs(tuple(_unique(products)), tuple(_unique(tiffs)))


def _unique(paths: Sequence[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))
