"""Scene files for patch building: now :mod:`slidewatch.scene`.

Kept so that imports of these names from here go on working; new code imports
:mod:`slidewatch.scene`.
"""

from slidewatch.scene import (
    RASTER_SUFFIXES,
    check_crs,
    expand_folders,
    open_raster,
    read_padded,
    valid_pixels,
    zeros_are_nodata,
)

__all__ = [
    "RASTER_SUFFIXES",
    "check_crs",
    "expand_folders",
    "open_raster",
    "read_padded",
    "valid_pixels",
    "zeros_are_nodata",
]
