"""The georeferenced band stack that patch building and detection read, and ``fetch`` writes.

One room for the concept (see ``docs/scene.md``): the pixel grid
(:mod:`~slidewatch.scene.grid`), finding and opening files
(:mod:`~slidewatch.scene.files`), mosaicking tiles (:mod:`~slidewatch.scene.mosaic`),
matching bands (:mod:`~slidewatch.scene.matching`), the validity rule
(:mod:`~slidewatch.scene.validity`), windows past the edge (:mod:`~slidewatch.scene.windows`),
and the stack with its scaling rule and strip reader (:mod:`~slidewatch.scene.stack`). It
imports neither torch nor anything above ``data``.
"""

from slidewatch.scene.files import RASTER_SUFFIXES, check_crs, expand_folders, open_raster
from slidewatch.scene.grid import Grid
from slidewatch.scene.mosaic import Mosaic, on_grid, open_rasters
from slidewatch.scene.stack import Scene, SceneReader, holds_raw_values, open_scene
from slidewatch.scene.validity import valid_pixels, zeros_are_nodata
from slidewatch.scene.windows import RasterWindows, WindowReader, read_padded

__all__ = [
    "RASTER_SUFFIXES",
    "Grid",
    "Mosaic",
    "RasterWindows",
    "Scene",
    "SceneReader",
    "WindowReader",
    "check_crs",
    "expand_folders",
    "holds_raw_values",
    "on_grid",
    "open_raster",
    "open_rasters",
    "open_scene",
    "read_padded",
    "valid_pixels",
    "zeros_are_nodata",
]
