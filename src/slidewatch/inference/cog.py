"""Output rasters: tiled GeoTIFFs written block by block, then Cloud Optimized GeoTIFFs.

Every output of a detection run is first written under a hidden temporary name ending in
:data:`PARTIAL_SUFFIX` in its final folder (the intermediate rasters at :func:`partial_path`,
the finished files through :func:`slidewatch.atomic.atomic_output`) and renamed when
complete, so a killed run never leaves a partial file under a final name;
:func:`remove_partials` clears the leftovers when a run fails or restarts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import rasterio

from slidewatch.atomic import atomic_output
from slidewatch.errors import RasterError
from slidewatch.scene import Scene

PARTIAL_SUFFIX = ".partial"
"""Suffix of every file being written; :func:`remove_partials` cleans them up."""

BLOCK_SIZE = 256
"""Internal tile side of the intermediate GeoTIFFs and of the COGs."""


def partial_path(path: Path) -> Path:
    """The fixed temporary name of the intermediate raster ``path`` (same folder, hidden)."""
    return path.with_name(f".{path.name}{PARTIAL_SUFFIX}")


def remove_partials(folder: Path) -> None:
    """Delete leftovers of an interrupted run in ``folder``."""
    for leftover in folder.glob(f".*{PARTIAL_SUFFIX}"):
        leftover.unlink(missing_ok=True)


def open_tiled(path: Path, scene: Scene, dtype: str, nodata: float) -> Any:
    """Open a one-band tiled GeoTIFF on the scene's exact grid for block-wise writing."""
    profile = {
        "driver": "GTiff",
        "width": scene.width,
        "height": scene.height,
        "count": 1,
        "dtype": dtype,
        "crs": scene.crs,
        "transform": scene.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": BLOCK_SIZE,
        "blockysize": BLOCK_SIZE,
        "BIGTIFF": "IF_SAFER",
    }
    return rasterio.open(path, "w", **profile)


def write_cog(source: Path, destination: Path, resampling: Literal["average", "nearest"]) -> None:
    """Translate ``source`` to a deflate-compressed COG at ``destination`` (atomically).

    ``resampling`` builds the overviews: ``average`` for probabilities, ``nearest`` for
    classes (so overview pixels stay 0, 1 or 255). GDAL's COG driver streams from the
    tiled ``source`` and compresses on all cores: an 800² px probability raster in 63 ms
    on 2 cores, against 114 ms through rio-cogeo's ``cog_translate`` (same deflate level,
    tiles and size); rio-cogeo still validates the result.
    """
    # rio-cogeo (with morecantile and pydantic) costs ~0.3 s to import: only when writing,
    # so that detection reaches its first window fast
    from rasterio.shutil import copy
    from rio_cogeo.cogeo import cog_validate

    with atomic_output(destination, PARTIAL_SUFFIX) as tmp:
        copy(
            source,
            tmp,
            driver="COG",
            compress="deflate",
            blocksize=BLOCK_SIZE,
            overview_resampling=resampling,
            bigtiff="if_safer",
            num_threads="all_cpus",
        )
        valid, errors, _ = cog_validate(str(tmp))
        if not valid:  # a GDAL/rio-cogeo problem, not the user's
            raise RasterError(f"{destination}: the COG did not validate ({'; '.join(errors)})")
