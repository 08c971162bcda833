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


def _acquisition_classes(channels: np.ndarray, spec: BlockSpec) -> tuple[np.ndarray, np.ndarray]:
    """(mask classes, cloud score) of one acquisition's K×H×W block (DN, offset removed)."""
    names = spec.loaded
    spectral = channels[: len(spec.s2_bands)]
    seen = np.isfinite(spectral).all(axis=0)
    score = np.zeros(channels.shape[1:], dtype=np.float32)
    if spec.cloud_mask == "scl":
        classes = classes_from_scl(channels[names.index("SCL")])
    elif spec.cloud_mask in ("s2cloudless", "probability"):
        if spec.cloud_mask == "s2cloudless":
            refl = {b: channels[names.index(b)] * REFLECTANCE_SCALE for b in S2CLOUDLESS_BANDS}
            prob = s2cloudless_probability(refl)
        else:
            prob = channels[names.index("CLOUDPROB")]
        classes, score = classes_from_probability(prob), np.nan_to_num(prob, nan=1.0)
    else:
        classes = np.full(channels.shape[1:], CLEAR, dtype=np.uint8)
    classes[~seen] = NODATA
    return classes, score


def composite_block(cube: np.ndarray, spec: BlockSpec) -> np.ndarray:
    """T×K×H×W raw digital numbers → (C + 1 + T)×H×W: composite bands (DN, offset removed),
    the composite's class, each acquisition's class."""
    t_count, _, h, w = cube.shape
    values = np.empty((t_count, len(spec.s2_bands), h, w), dtype=np.float32)
    classes = np.empty((t_count, h, w), dtype=np.uint8)
    scores = np.empty((t_count, h, w), dtype=np.float32)
    for t in range(t_count):
        # The offset applies to spectral digital numbers only, never to SCL or probabilities.
        channels = cube[t].astype(np.float32)
        n_offset = len(spec.s2_bands) + sum(b in S2CLOUDLESS_BANDS for b in spec.cloud_inputs)
        channels[:n_offset] -= spec.offsets[t]
        values[t] = channels[: len(spec.s2_bands)]
        classes[t], scores[t] = _acquisition_classes(channels, spec)
    out, cls = composite(spec.composite, values, classes, scores)
    return np.concatenate([out, cls[None].astype(np.float32), classes.astype(np.float32)])


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
    bands = comp[:n_s2] if terrain is None else np.concatenate([comp[:n_s2], terrain])
    cls = comp[n_s2].astype(np.uint8)
    per_acq = comp[n_s2 + 1 :]
    cls[~inside] = OUTSIDE
    per_acq[:, ~inside] = OUTSIDE
    if terrain is not None:  # a pixel without elevation cannot be used either
        cls[(cls == CLEAR) & ~np.isfinite(terrain).all(axis=0)] = NODATA
    stack = bands[list(order)] / divisors[:, None, None]
    stack[:, cls != CLEAR] = np.nan
    return np.concatenate([stack.astype(np.float32), cls[None].astype(np.float32), per_acq])


def inside_aoi(geometry: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    """Bool H×W: pixel centres inside ``geometry`` (projected) on a block's ``transform``."""
    from rasterio.features import geometry_mask

    return geometry_mask([geometry], out_shape=shape, transform=transform, invert=True)
