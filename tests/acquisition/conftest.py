"""A small local STAC catalogue with known values, shared by the acquisition tests.

Tile T1 (60×60 px of 10 m at ORIGIN) and tile T2 (the 60×60 px east of it). Scenes:

- ``A_2021``: T1, 2021-06-01, baseline 03.01 (no offset)
- ``B_2023``: T1, 2023-06-01, baseline 05.09 (+1000 DN), same ground as A
- ``C_cloudy``: T1, 2023-06-11, a thick cloud over rows 10-29, cols 10-29
- ``D_old`` / ``D_new``: T1, 2023-07-01, the same acquisition processed twice; D_new (newer,
  +50 DN everywhere so it can be told apart) must be the one used
- ``E_T1`` / ``E_T2``: 2023-08-01, two adjacent tiles of one pass
- ``G_cloudy95``: T1, 2023-09-01, scene cloud cover 95 %
- a DEM collection: a plane rising eastward at SLOPE_DEG
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping, shape

from slidewatch.acquisition.aoi import AOI, validate_aoi
from slidewatch.synthetic import CRS, ORIGIN, SyntheticScene, area_bands, write_catalog

SIDE = 60
SLOPE_DEG = 30.0


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def aoi_from_utm(x0: float, y0: float, x1: float, y1: float) -> AOI:
    """An AOI given by offsets (m) from ORIGIN: x to the east, y to the south."""
    inner = box(ORIGIN[0] + x0, ORIGIN[1] - y1, ORIGIN[0] + x1, ORIGIN[1] - y0)
    return validate_aoi(shape(transform_geom(CRS, "EPSG:4326", mapping(inner))))


@dataclass(frozen=True)
class Catalogue:
    path: Path
    bands_t1: dict[str, np.ndarray]
    bands_t2: dict[str, np.ndarray]
    cloud: np.ndarray
    dem: np.ndarray


def plane_dem(height: int, width: int) -> np.ndarray:
    xx = np.arange(width)[None, :] * 10.0 + 5.0
    return np.broadcast_to(2000.0 + math.tan(math.radians(SLOPE_DEG)) * xx, (height, width)).copy()


def build_catalogue(root: Path, raster_offset: bool = True, style: str = "esa") -> Catalogue:
    bands, _, _ = area_bands(SIDE, 2 * SIDE, seed=3)
    t1 = {k: v[:, :SIDE].copy() for k, v in bands.items()}
    t2 = {k: v[:, SIDE:].copy() for k, v in bands.items()}
    cloud = np.zeros((SIDE, SIDE), bool)
    cloud[10:30, 10:30] = True
    east = (ORIGIN[0] + 10 * SIDE, ORIGIN[1])
    plus50 = {k: v + 50.0 for k, v in t1.items()}
    scenes = [
        SyntheticScene("A_2021", utc(2021, 6, 1, 15), t1),
        SyntheticScene("B_2023", utc(2023, 6, 1, 15), t1),
        SyntheticScene("C_cloudy", utc(2023, 6, 11, 15), t1, cloud=cloud),
        SyntheticScene("D_old", utc(2023, 7, 1, 15), t1, processed="2023-07-01T20:00:00Z"),
        SyntheticScene("D_new", utc(2023, 7, 1, 15), plus50, processed="2023-09-30T20:00:00Z"),
        SyntheticScene("E_T1", utc(2023, 8, 1, 15), t1, tile="18LTP"),
        SyntheticScene("E_T2", utc(2023, 8, 1, 15), t2, tile="18LUP", origin=east),
        SyntheticScene("G_cloudy95", utc(2023, 9, 1, 15), t1, cloud_cover=95.0),
    ]
    dem = plane_dem(SIDE, 2 * SIDE)
    path = write_catalog(root, scenes, dem, asset_style=style, raster_offset=raster_offset)
    return Catalogue(path, t1, t2, cloud, dem)


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    return build_catalogue(tmp_path_factory.mktemp("stac"))


@pytest.fixture(scope="session")
def aoi_t1() -> AOI:
    """100 m inside tile T1 on every side: a 40×40 px grid."""
    return aoi_from_utm(100, 100, 500, 500)
