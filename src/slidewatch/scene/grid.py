"""A pixel grid: the one value every raster of slidewatch is placed by (scenes, mosaics,
detection outputs, monitoring products)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grid:
    """A pixel grid: CRS, affine transform and size."""

    crs: Any
    transform: Any
    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, as numpy orders an array on this grid."""
        return (self.height, self.width)

    @classmethod
    def of(cls, dataset: Any) -> Grid:
        """The grid of an open raster (anything with ``crs``, ``transform``, ``height`` and
        ``width``: a rasterio dataset, a mosaic, a scene)."""
        return cls(dataset.crs, dataset.transform, dataset.height, dataset.width)
