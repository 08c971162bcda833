"""Windows that may pass a raster's edge: one :func:`read_padded` for every reader.

Patches at a scene's edge, a label raster's windows and the labeling tool's context around
a patch all read a square window that may reach outside the grid. :func:`read_padded` reads
the part inside through a :class:`WindowReader` — a :class:`~slidewatch.scene.SceneReader`
(bands matched, scaled, every source on one grid) or a :class:`RasterWindows` over one
raster as it is — and gives the rest as invalid zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from slidewatch.scene.validity import masked_valid


class WindowReader(Protocol):
    """Reads windows inside its grid as (C×h×w values, h×w valid); invalid values are 0."""

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of its grid."""
        ...

    @property
    def count(self) -> int:
        """Bands (C) of what :meth:`read` gives."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The data type of what :meth:`read` gives."""
        ...

    def read(
        self, row: int, height: int, col: int = 0, width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The window of ``height`` rows from ``row`` and ``width`` columns from ``col``."""
        ...


class RasterWindows:
    """A :class:`WindowReader` over one open raster (or mosaic), its values as they are
    (float64), validity by :func:`~slidewatch.scene.validity.valid_pixels`."""

    def __init__(
        self, ds: Any, indexes: Sequence[int] | None = None, zero_is_nodata: bool = False
    ) -> None:
        self._ds = ds
        self._indexes = list(indexes) if indexes is not None else list(range(1, ds.count + 1))
        self._zero_is_nodata = zero_is_nodata

    @property
    def shape(self) -> tuple[int, int]:
        return self._ds.height, self._ds.width

    @property
    def count(self) -> int:
        return len(self._indexes)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype("float64")

    def read(
        self, row: int, height: int, col: int = 0, width: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        from rasterio.windows import Window

        width = self._ds.width - col if width is None else width
        block = self._ds.read(self._indexes, window=Window(col, row, width, height), masked=True)
        values, valid = masked_valid(block.astype("float64"), self._zero_is_nodata)
        values[:, ~valid] = 0.0
        return values, valid


def read_padded(
    reader: WindowReader, row: int, col: int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``size``×``size`` window at (``row``, ``col``) of ``reader``'s grid, which may pass
    its edge: ``(data C×size×size, valid size×size)``; pixels outside are invalid and 0."""
    data = np.zeros((reader.count, size, size), dtype=reader.dtype)
    valid = np.zeros((size, size), dtype=bool)
    height, width = reader.shape
    r0, c0 = max(row, 0), max(col, 0)
    r1, c1 = min(row + size, height), min(col + size, width)
    if r1 <= r0 or c1 <= c0:
        return data, valid
    inside, inside_valid = reader.read(r0, r1 - r0, c0, c1 - c0)
    data[:, r0 - row : r1 - row, c0 - col : c1 - col] = inside
    valid[r0 - row : r1 - row, c0 - col : c1 - col] = inside_valid
    return data, valid
