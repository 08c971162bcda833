"""The per-block steps of a fetch, run by dask on each chunk of the grid (pure numpy).

1. :func:`composite_block`: T acquisitions × (bands, cloud input) → the composite's bands
   (digital numbers, offset removed), its mask class and each acquisition's mask class.
2. :func:`finish_block`: + slope and DEM, L4S scale, outside-the-AOI, nodata where not clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slidewatch.acquisition.clouds import (
    CLEAR,
    NODATA,
    OUTSIDE,
    S2CLOUDLESS_BANDS,
    classes_from_probability,
    classes_from_scl,
    s2cloudless_probability,
)
from slidewatch.acquisition.composite import composite
from slidewatch.acquisition.offset import REFLECTANCE_SCALE


@dataclass(frozen=True)
class BlockSpec:
    """What the block functions need to know (small: travels with every dask task)."""

    s2_bands: tuple[str, ...]
    """Spectral bands written, in stack order."""
    cloud_inputs: tuple[str, ...]
    """Extra loaded bands that decide the mask (``SCL``; s2cloudless bands; ``CLOUDPROB``)."""
    cloud_mask: str
    """``scl``, ``s2cloudless``, ``probability`` or ``none``."""
    composite: str
    offsets: tuple[float, ...]
    """Digital-number offset of each acquisition (oldest first)."""

    @property
    def loaded(self) -> tuple[str, ...]:
        """Channels of each acquisition in the cube: the written bands, then cloud inputs."""
        return self.s2_bands + self.cloud_inputs


def _acquisition_classes(
    values: np.ndarray, extra: dict[str, np.ndarray], spec: BlockSpec, offset: float
) -> tuple[np.ndarray, np.ndarray]:
    """(mask classes, cloud score) of one acquisition: ``values`` C×H×W (DN, offset
    removed) and the raw cloud inputs ``extra`` (name → H×W)."""
    seen = np.isfinite(values.sum(axis=0))  # NaN in any band (no data) makes the sum NaN
    score = np.zeros(values.shape[1:], dtype=np.float32)
    if spec.cloud_mask == "scl":
        classes = classes_from_scl(extra["SCL"])
    elif spec.cloud_mask in ("s2cloudless", "probability"):
        if spec.cloud_mask == "s2cloudless":
            # The offset applies to spectral digital numbers, never to SCL or probabilities.
            refl = {
                b: (values[spec.s2_bands.index(b)] if b in spec.s2_bands else extra[b] - offset)
                * REFLECTANCE_SCALE
                for b in S2CLOUDLESS_BANDS
            }
            prob = s2cloudless_probability(refl)
        else:
            prob = extra["CLOUDPROB"]
        classes, score = classes_from_probability(prob), np.nan_to_num(prob, nan=1.0)
    else:
        classes = np.full(values.shape[1:], CLEAR, dtype=np.uint8)
    classes[~seen] = NODATA
    return classes, score


def to_fine(
    block: np.ndarray,
    k: int,
    shape: tuple[int, int],
    offset: float = 0.0,
    out: np.ndarray | None = None,
    start: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """``block`` minus ``offset`` on a chunk of ``shape`` stack pixels, written into ``out``.

    ``k`` 1: ``block`` is the chunk. Otherwise each pixel of ``block`` covers k × k stack
    pixels and the chunk's first pixel is ``start`` (rows, columns) stack pixels from the
    block's top-left corner: the block's pixels are repeated in one broadcast pass, the
    nearest-neighbour resampling of a grid whose edges fall on the stack's."""
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    if k == 1:
        return np.subtract(block, np.float32(offset), out=out)
    (h, w), (sy, sx) = shape, start
    (r0, ry), (c0, rx) = divmod(sy, k), divmod(sx, k)
    rows, cols = -(-(h + ry) // k), -(-(w + rx) // k)  # coarse pixels the chunk touches
    part = block[r0 : r0 + rows, c0 : c0 + cols]
    exact = (ry, rx) == (0, 0) and (rows * k, cols * k) == (h, w)
    whole = out if exact else np.empty((rows * k, cols * k), np.float32)
    # A (rows, k, cols, k) view: each coarse pixel broadcast over its k × k stack pixels.
    np.subtract(part[:, None, :, None], np.float32(offset), out=whole.reshape(rows, k, cols, k))
    if not exact:  # the chunk starts or ends inside a coarse pixel
        out[...] = whole[ry : ry + h, rx : rx + w]
    return out


def composite_block(
    *blocks: np.ndarray,
    spec: BlockSpec,
    layouts: Sequence[tuple[int, tuple[int, int] | None]],
    block_info: Any,
) -> np.ndarray:
    """The blocks of every acquisition's loaded channels (raw digital numbers, in
    acquisition then :attr:`BlockSpec.loaded` order) → (C + 1 + T)×H×W: composite bands
    (DN, offset removed), the composite's class, each acquisition's class.

    ``layouts``: each channel's (factor, shift) (see
    :class:`~slidewatch.acquisition.sources.Channel`); ``block_info``: dask's, where this
    chunk is on the grid."""
    t_count, k_count, n_s2 = len(spec.offsets), len(spec.loaded), len(spec.s2_bands)
    (_, (y0, y1), (x0, x1)) = block_info[None]["array-location"]
    h, w = y1 - y0, x1 - x0
    starts = [(0, 0) if s is None else (y0 + s[0], x0 + s[1]) for _, s in layouts]

    def fine(i: int, offset: float = 0.0, into: np.ndarray | None = None) -> np.ndarray:
        return to_fine(blocks[i], layouts[i][0], (h, w), offset, into, starts[i])

    out = np.empty((n_s2 + 1 + t_count, h, w), dtype=np.float32)
    # One acquisition: its values are the composite's, computed in place in the output.
    values = out[None, :n_s2] if t_count == 1 else np.empty((t_count, n_s2, h, w), np.float32)
    classes = np.empty((t_count, h, w), dtype=np.uint8)
    scores = np.empty((t_count, h, w), dtype=np.float32)
    for t in range(t_count):
        first = t * k_count
        for c in range(n_s2):
            fine(first + c, spec.offsets[t], values[t, c])
        extra = {name: fine(first + n_s2 + i) for i, name in enumerate(spec.cloud_inputs)}
        classes[t], scores[t] = _acquisition_classes(values[t], extra, spec, spec.offsets[t])
    bands, cls = composite(spec.composite, values, classes, scores)
    if not np.may_share_memory(bands, out):
        out[:n_s2] = bands
    out[n_s2] = cls
    out[n_s2 + 1 :] = classes
    return out


def finish_block(
    comp: np.ndarray,
    terrain: np.ndarray | None,
    inside: np.ndarray,
    order: Sequence[int],
    divisors: np.ndarray,
    n_s2: int,
) -> np.ndarray:
    """(C_out + 1 + T)×H×W: bands in stack ``order`` (indices into composite bands then
    slope, dem) in the L4S scale with NaN where not clear, the class, acquisitions' classes."""
    cls = comp[n_s2].astype(np.uint8)
    per_acq = comp[n_s2 + 1 :]
    cls[~inside] = OUTSIDE
    per_acq[:, ~inside] = OUTSIDE
    if terrain is not None:  # a pixel without elevation cannot be used either
        cls[(cls == CLEAR) & ~np.isfinite(terrain[0] + terrain[1])] = NODATA
    n_out = len(order)
    out = np.empty((n_out + 1 + per_acq.shape[0], *cls.shape), dtype=np.float32)
    for i, source in enumerate(order):  # one pass per band: the L4S divisor
        band = comp[source] if source < n_s2 else terrain[source - n_s2]  # type: ignore[index]
        np.multiply(band, np.float32(1) / np.float32(divisors[i]), out=out[i])
    out[:n_out, cls != CLEAR] = np.nan  # only the pixels that are not clear are touched
    out[n_out] = cls
    out[n_out + 1 :] = per_acq
    return out


def inside_aoi(geometry: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    """Bool H×W: pixel centres inside ``geometry`` (projected) on a block's ``transform``."""
    from rasterio.features import geometry_mask

    return geometry_mask([geometry], out_shape=shape, transform=transform, invert=True)
