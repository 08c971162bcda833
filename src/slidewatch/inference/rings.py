"""Many polygons as one array of vertices: areas, reprojection and keys without a Python loop
per vertex.

The polygonizer gives GeoJSON dicts of tuples (~130 bytes a vertex); held as :class:`Rings`
they take 16 bytes a vertex, and every per-polygon figure is a NumPy reduction over ring
segments (``np.add.reduceat``). For the 21,530 polygons of a 4096² px mostly-landslide mask,
converting each ring to an array and back one by one took most of the polygon stage.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine

CHUNK = 4096
"""Polygons converted at a time (their dicts are dropped once in the arrays)."""


@dataclass(frozen=True)
class Rings:
    """Polygons (exterior then holes) as N×2 vertices, closed rings, in some CRS."""

    xy: np.ndarray
    """All vertices, ring after ring (float64 N×2)."""
    ring_length: np.ndarray
    """Vertices of each ring (the first repeated last)."""
    ring_count: np.ndarray
    """Rings of each polygon (its exterior first)."""

    @staticmethod
    def of(geoms: Iterable[dict[str, Any]]) -> Rings:
        """GeoJSON polygons (``coordinates``: rings of (x, y)) as arrays, chunk by chunk."""
        parts: list[Rings] = []
        iterator = iter(geoms)
        while chunk := list(itertools.islice(iterator, CHUNK)):
            rings = [ring for g in chunk for ring in g["coordinates"]]
            lengths = np.fromiter(map(len, rings), np.int64, len(rings))
            flat = itertools.chain.from_iterable(itertools.chain.from_iterable(rings))
            xy = np.fromiter(flat, np.float64, 2 * int(lengths.sum())).reshape(-1, 2)
            counts = np.fromiter((len(g["coordinates"]) for g in chunk), np.int64, len(chunk))
            parts.append(Rings(xy, lengths, counts))
        if not parts:
            empty = np.zeros(0, np.int64)
            return Rings(np.zeros((0, 2)), empty, empty)
        return Rings(*(np.concatenate(a) for a in zip(*(astuple(p) for p in parts), strict=True)))

    def __len__(self) -> int:
        return int(self.ring_count.size)

    @property
    def ring_start(self) -> np.ndarray:
        """Index of each ring's first vertex."""
        return np.concatenate([[0], np.cumsum(self.ring_length)[:-1]]).astype(np.int64)

    @property
    def exterior(self) -> np.ndarray:
        """Index (among rings) of each polygon's exterior ring."""
        return np.concatenate([[0], np.cumsum(self.ring_count)[:-1]]).astype(np.int64)

    def areas(self) -> np.ndarray:
        """Planar area of each polygon (exterior less holes) by the shoelace formula; each
        ring shifted to its first vertex first, as GEOS does, so that metre coordinates of
        millions keep their precision."""
        if not len(self):
            return np.zeros(0)
        start = self.ring_start
        origin = np.repeat(self.xy[start], self.ring_length, axis=0)
        x, y = (self.xy - origin).T
        cross = np.zeros_like(x)
        cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
        cross[start + self.ring_length - 1] = 0.0  # no segment from a ring's end to the next
        ring_area = np.abs(np.add.reduceat(cross, start)) / 2
        ring_area[np.setdiff1d(np.arange(ring_area.size), self.exterior)] *= -1
        return np.add.reduceat(ring_area, self.exterior)

    def first_pixels(self, transform: Affine, width: int) -> np.ndarray:
        """Flat index (row × ``width`` + column) of each region's first pixel in raster order:
        its top row's leftmost pixel, whose top-left corner is the exterior ring's lowest
        vertex in (row, column) order."""
        if not len(self):
            return np.zeros(0, np.int64)
        a, b, c, d, e, f = (~transform)[:6]
        x, y = self.xy.T
        cols = np.rint(a * x + b * y + c).astype(np.int64)
        rows = np.rint(d * x + e * y + f).astype(np.int64)
        order = rows * (width + 1) + cols  # a vertex's column runs to ``width`` inclusive
        lowest = np.minimum.reduceat(order, self.ring_start)[self.exterior]
        return (lowest // (width + 1)) * width + lowest % (width + 1)

    def reprojected(self, src: Any, dst: Any) -> Rings:
        """The same rings mapped from CRS ``src`` to ``dst`` in one PROJ call (pyproj)."""
        source, target = CRS.from_user_input(src), CRS.from_user_input(dst)
        if source == target or not len(self):
            return self
        from pyproj import Transformer

        transformer = Transformer.from_crs(source.to_wkt(), target.to_wkt(), always_xy=True)
        x, y = transformer.transform(self.xy[:, 0], self.xy[:, 1])
        return replace(self, xy=np.stack([x, y], axis=1))

    def geojson(self, which: Sequence[int]) -> list[dict[str, Any]]:
        """GeoJSON Polygons of the polygons ``which`` (indices), in that order."""
        ring_start, ring_length = self.ring_start.tolist(), self.ring_length.tolist()
        exterior, ring_count = self.exterior.tolist(), self.ring_count.tolist()
        xs, ys = self.xy[:, 0].tolist(), self.xy[:, 1].tolist()
        out = []
        for k in which:
            rings = []
            for r in range(exterior[k], exterior[k] + ring_count[k]):
                a, n = ring_start[r], ring_length[r]
                rings.append(list(zip(xs[a : a + n], ys[a : a + n], strict=True)))
            out.append({"type": "Polygon", "coordinates": rings})
        return out


def astuple(rings: Rings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three arrays of ``rings``."""
    return rings.xy, rings.ring_length, rings.ring_count
