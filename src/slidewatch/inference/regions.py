"""Statistics of the 4-connected landslide regions of a raster, by strips, in linear time.

Strips of at most ``strip_rows`` rows are labelled (:func:`scipy.ndimage.label`, whose
default structure is 4-connected); a label takes the next free global number, and numbers
that touch across a strip border (the same column of the rows either side) are joined by a
union-find whose representative is the smaller number. Each region's pixel count and
probability sum are added up per label, then per region, so memory holds one strip and a
few numbers per region. A region is named by its first pixel in raster order: the smaller
number began earlier in raster order, so the representative's first pixel is the region's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.windows import Window

LANDSLIDE = 1
STRIP_ROWS = 1024


def _first_pixels(flat: np.ndarray, count: int) -> np.ndarray:
    """Flat index of each label's first pixel (labels 1..``count``, in raster order)."""
    at = np.flatnonzero(flat)
    labels = flat[at]
    # scipy numbers labels in the order of their first pixel: a label is new where it
    # exceeds every label before it
    new = np.empty(labels.size, bool)
    new[0] = True
    np.greater(labels[1:], np.maximum.accumulate(labels[:-1]), out=new[1:])
    if new.sum() != count or not np.array_equal(labels[new], np.arange(1, count + 1)):
        _, first = np.unique(labels, return_index=True)  # not in order: the general way
        return at[first]
    return at[new]


def _root(parent: list[int], k: int) -> int:
    """Union-find: the representative of ``k`` (halving the path on the way)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


@dataclass(frozen=True)
class RegionStats:
    """Pixel count and probability sum of each landslide region, by its first pixel."""

    first: np.ndarray
    """Flat index (row × width + column) of each region's first pixel, increasing."""
    count: np.ndarray
    """Pixels of each region."""
    total: np.ndarray
    """Sum of the probabilities of its pixels (float64)."""

    def means(self, keys: np.ndarray) -> list[float]:
        """Mean probability of the regions whose first pixels are ``keys``."""
        i = np.searchsorted(self.first, keys)
        if np.any(i >= self.first.size) or np.any(
            self.first[np.minimum(i, self.first.size - 1)] != keys
        ):
            raise KeyError("a polygon without its region")  # a bug, not a user error
        return (self.total[i] / self.count[i]).tolist()

    def mean(self, key: int) -> float:
        """Mean probability of the region whose first pixel is ``key``."""
        i = int(np.searchsorted(self.first, key))
        if i == self.first.size or self.first[i] != key:
            raise KeyError(key)  # a polygon without its region: a bug, not a user error
        return float(self.total[i] / self.count[i])


def region_stats(
    ds: Any, prob: Any, strip_rows: int = STRIP_ROWS, step: Callable[[int], object] | None = None
) -> RegionStats:
    """Count and probability sum of the 4-connected landslide regions of ``ds``.

    Strips of ``strip_rows`` rows are labelled; a label takes the next free global number,
    and numbers touching across a strip border are joined (union-find, the smaller number
    the representative, so a region keeps the number, and the first pixel, it began with).
    ``step(rows)`` is called after each strip (a progress bar).
    """
    from scipy import ndimage  # ~0.2 s to import: after the windows, not before the first

    if strip_rows < 1:
        raise ValueError(f"strip_rows must be >= 1, got {strip_rows}")
    parent: list[int] = []
    counts, totals, firsts = [], [], []
    carry: np.ndarray | None = None  # global numbers of the previous strip's last row, or -1
    for row0 in range(0, ds.height, strip_rows):
        window = Window(0, row0, ds.width, min(strip_rows, ds.height - row0))
        labels, n = ndimage.label(ds.read(1, window=window) == LANDSLIDE)
        offset = len(parent) - 1  # label k becomes global number offset + k
        if n:
            flat = labels.ravel()
            values = prob.read(1, window=window).ravel()
            counts.append(np.bincount(flat, minlength=n + 1)[1:])
            totals.append(np.bincount(flat, weights=values, minlength=n + 1)[1:])
            firsts.append(_first_pixels(flat, n) + row0 * ds.width)
            parent.extend(range(offset + 1, offset + n + 1))
            if carry is not None:
                top = labels[0]
                both = (carry >= 0) & (top > 0)
                pairs = np.unique(np.stack([carry[both], top[both] + offset], axis=1), axis=0)
                for a, b in pairs.tolist():
                    ra, rb = _root(parent, a), _root(parent, b)
                    parent[max(ra, rb)] = min(ra, rb)
            carry = np.where(labels[-1] > 0, labels[-1] + offset, -1)
        else:
            carry = None
        if step is not None:
            step(window.height)
    if not parent:
        empty = np.zeros(0, np.int64)
        return RegionStats(empty, empty, np.zeros(0))
    root = np.asarray(parent, np.int64)
    while True:  # pointer jumping: every number to its representative
        up = root[root]
        if np.array_equal(up, root):
            break
        root = up
    heads = np.flatnonzero(root == np.arange(root.size))
    return RegionStats(
        first=np.concatenate(firsts)[heads],
        count=np.bincount(root, weights=np.concatenate(counts), minlength=root.size)[heads],
        total=np.bincount(root, weights=np.concatenate(totals), minlength=root.size)[heads],
    )
