"""Imagery a user already has, made small: SAFE products (folders and Data Space zips, L2A
and L1C, before and after processing baseline 04.00), GeoTIFF band files and a DEM GeoTIFF,
all of tile T1 of the shared conftest (60×60 px of 10 m at ORIGIN). SYNTHETIC.

| product | level | sensed | baseline | given as |
|---|---|---|---|---|
| l2a_2023 | L2A | 2023-06-01 | 05.09 (+1000) | .SAFE folder, JPEG 2000, a cloud |
| l2a_2021 | L2A | 2021-06-01 | 03.01 | zip |
| l1c_2023 | L1C | 2023-06-01 | 04.00 (+1000) | zip |
| l1c_2021 | L1C | 2021-06-01 | 02.09 | .SAFE folder |
| tif_l2a_2023 | L2A | 2023-07-01 | 05.09 (+1000, from the folder's name) | GeoTIFF band files |
| tif_l1c_2021 | L1C | 2021-07-01 | none stated (before 2022) | GeoTIFF band files |
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from slidewatch.bands import BAND_NAMES, L4S_SCALE
from slidewatch.synthetic import CRS, ORIGIN, SyntheticScene, area_bands
from slidewatch.synthetic.safe import write_band_geotiffs, write_safe, zip_safe

from .conftest import plane_dem

SIDE = 60
CLOUD = (slice(10, 30), slice(10, 30))
"""The cloud of l2a_2023 (rows, cols of the tile)."""


@dataclass(frozen=True)
class Product:
    """One product as the user has it, and where its band files are to read them back."""

    given: Path
    """What ``catalog build`` is given (a .SAFE folder, a zip, a folder of GeoTIFFs)."""
    files: Path
    """A folder holding its band files (for a zip: the folder it was made from)."""
    offset_dn: float
    """What the product's numbers carry: 1000 from baseline 04.00, else 0."""
    collection: str
    day: str


def _scene(day: datetime, baseline: str | None, cloud: np.ndarray | None = None) -> SyntheticScene:
    bands, _, _ = area_bands(SIDE, SIDE, seed=5)
    return SyntheticScene("x", day, bands, processing_baseline=baseline, cloud=cloud)


def utc(*args: int) -> datetime:
    return datetime(*args, 15, tzinfo=UTC)


def make_products(root: Path) -> dict[str, Product]:
    """Write every product of the module docstring under ``root``."""
    cloud = np.zeros((SIDE, SIDE), bool)
    cloud[CLOUD] = True
    out: dict[str, Product] = {}
    safe = write_safe(_scene(utc(2023, 6, 1), "05.09", cloud), root / "downloads")
    out["l2a_2023"] = Product(safe, safe, 1000.0, "sentinel-2-l2a", "2023-06-01")
    for name, level, day, baseline, as_zip in (
        ("l2a_2021", "L2A", utc(2021, 6, 1), "03.01", True),
        ("l1c_2023", "L1C", utc(2023, 6, 1), "04.00", True),
        ("l1c_2021", "L1C", utc(2021, 6, 1), "02.09", False),
    ):
        safe = write_safe(_scene(day, baseline), root / "made" / name, level=level)
        given = zip_safe(safe, root / "downloads" / f"{safe.name}.zip") if as_zip else safe
        collection = "sentinel-2-l2a" if level == "L2A" else "sentinel-2-l1c"
        offset = 1000.0 if float(baseline) >= 4 else 0.0
        out[name] = Product(given, safe, offset, collection, day.date().isoformat())
    folder = root / "tiffs" / "S2B_MSIL2A_20230701T150000_N0509_R051_T18LTP_20230701T200000"
    write_band_geotiffs(_scene(utc(2023, 7, 1), "05.09"), folder, "L2A")
    out["tif_l2a_2023"] = Product(folder, folder, 1000.0, "sentinel-2-l2a", "2023-07-01")
    folder = root / "tiffs" / "tiles_2021"
    write_band_geotiffs(_scene(utc(2021, 7, 1), None), folder, "L1C")
    out["tif_l1c_2021"] = Product(folder, folder, 0.0, "sentinel-2-l1c", "2021-07-01")
    return out


def write_dem(path: Path) -> Path:
    """A 30 m DEM GeoTIFF of the tile (a plane rising eastward)."""
    dem = plane_dem(SIDE, SIDE)[1::3, 1::3].astype(np.float32)
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "height": dem.shape[0],
               "width": dem.shape[1], "crs": CRS, "nodata": -32767.0,
               "transform": from_origin(ORIGIN[0], ORIGIN[1], 30, 30)}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem, 1)
    return path


def band_file(product: Product, band: str) -> Path:
    """The file of L4S band ``band`` (``B4``, ``B8A``) in a product's files."""
    esa = band if band == "B8A" else f"B{int(band[1:]):02d}"
    hits = [p for p in product.files.rglob("*") if p.suffix in (".jp2", ".tif")
            and (f"_{esa}_" in p.name or p.stem.endswith(f"_{esa}"))]  # fmt: skip
    assert len(hits) == 1, (band, hits)
    return hits[0]


def expected_l4s(product: Product, band: str, rows: slice, cols: slice) -> np.ndarray:
    """Independent computation of a stack band from the product's own file: its digital
    numbers, each 10 m pixel taking the native pixel it lies in, minus the offset its
    baseline carries, divided by the L4S divisor."""
    with rasterio.open(band_file(product, band)) as ds:
        dn = ds.read(1).astype(np.float64)
        factor = round(ds.transform.a / 10)
    at10 = np.repeat(np.repeat(dn, factor, axis=0), factor, axis=1)
    return (at10[rows, cols] - product.offset_dn) / L4S_SCALE[BAND_NAMES.index(band)]


def copy_product(product: Product, to: Path) -> Path:
    """A copy of a product's .SAFE folder to break."""
    return Path(shutil.copytree(product.files, to / product.files.name))
