"""Finding and opening the raster files of a scene, with errors that name the file.

A folder stands for the rasters in it. Files that are not rasters a scene can be made of
are refused early with what they are and what to do: an HDF5 file is an L4S patch (scored
with ``slidewatch evaluate``, not ``detect``), a folder without rasters says so, a raster
without CRS or geotransform says how to georeference it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import rasterio
import rasterio.errors
from rasterio.io import DatasetReader

from slidewatch.errors import RasterError

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")
"""Files taken from a folder given as a scene or label raster."""
HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first bytes of every HDF5 file (L4S patches are HDF5)."""


def is_hdf5(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file (by its signature, whatever its suffix)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except OSError:
        return False


def _hdf5_error(path: Path, what: str) -> RasterError:
    return RasterError(
        f"{what} {path} is an HDF5 file (an L4S patch?), not a georeferenced raster; a "
        f"{what} is a GeoTIFF/VRT or a folder of them. Score patches with "
        "'slidewatch evaluate', or give the scene the patches were cut from"
    )


def expand_folders(
    paths: Sequence[Path], suffixes: Sequence[str] = RASTER_SUFFIXES, what: str = "scene"
) -> list[Path]:
    """Replace each folder in ``paths`` by its files with ``suffixes`` (sorted)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
        if found:
            out.extend(found)
            continue
        if any(p.suffix.lower() in HDF5_SUFFIXES for p in path.rglob("*")):
            raise RasterError(
                f"{what} folder {path} holds HDF5 files (L4S patches?) and no "
                f"{'/'.join(suffixes)} files; a {what} is a GeoTIFF/VRT or a folder of them. "
                "Check patches with 'slidewatch data check', score them with "
                "'slidewatch evaluate'"
            )
        raise RasterError(
            f"{what} {path} is a folder and holds no {'/'.join(suffixes)} files; give the "
            f"raster files, or a folder of GeoTIFF tiles"
        )
    return out


def open_raster(path: Path, what: str = "scene") -> DatasetReader:
    """``rasterio.open`` with a RasterError that names the file and says what it is."""
    path = Path(path)
    if path.is_dir():
        raise RasterError(
            f"{what} {path} is a folder; give its raster files or pass the folder where a "
            "folder of tiles is accepted"
        )
    if not path.exists():
        raise RasterError(f"{path}: file not found; check the path")
    if is_hdf5(path):
        raise _hdf5_error(path, what)
    try:
        with warnings.catch_warnings():  # a missing georeference is reported by check_crs
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            return rasterio.open(path)
    except rasterio.errors.RasterioError as exc:
        raise RasterError(
            f"{path}: cannot read this file: not a readable raster ({exc}); "
            "give a GeoTIFF or VRT that GDAL can open"
        ) from None


def check_crs(path: Path, what: str = "scene") -> None:
    """Raise RasterError when ``path`` has no CRS or no geotransform."""
    with open_raster(path, what) as ds:
        if ds.crs is None:
            raise RasterError(
                f"{what} {path} has no CRS; assign one first, e.g. "
                f"gdal_edit.py -a_srs EPSG:32718 {path}"
            )
        if ds.transform.is_identity:
            raise RasterError(f"{what} {path} has no geotransform; georeference it first")
