"""Which pixels of an acquisition can be seen: mask classes from L2A's scene classification
(SCL), from a cloud probability (s2cloudless on L1C, Earth Engine's S2_CLOUD_PROBABILITY),
or from the data alone. Pure numpy on blocks.

The classes are those of the mask raster written beside every stack (:data:`MASK_CLASSES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from slidewatch.errors import SourceError

if TYPE_CHECKING:
    from slidewatch.acquisition.acquisitions import Acquisition
    from slidewatch.acquisition.sources import ImagerySource

CLEAR, NODATA, CLOUD, SHADOW, CIRRUS, OUTSIDE = 0, 1, 2, 3, 4, 5
MASK_CLASSES: dict[int, str] = {
    CLEAR: "clear",
    NODATA: "no data",
    CLOUD: "cloud",
    SHADOW: "cloud shadow",
    CIRRUS: "cirrus",
    OUTSIDE: "outside the AOI",
}
"""Mask raster values and their meaning; only ``clear`` pixels hold values in the stack."""

SCL_CLASSES: dict[int, int] = {0: NODATA, 1: NODATA, 3: SHADOW, 8: CLOUD, 9: CLOUD, 10: CIRRUS}
"""L2A scene classification → mask class (no data, saturated/defective, cloud shadow, cloud
medium/high probability, thin cirrus). Everything else — vegetation, bare soil, water,
dark areas, unclassified, snow — is clear: landslides are found on all of them."""

CLOUD_THRESHOLD = 0.4
"""Cloud probability above which a pixel is cloud (s2cloudless's default threshold)."""

S2CLOUDLESS_BANDS = ("B1", "B2", "B4", "B5", "B8", "B8A", "B9", "B10", "B11", "B12")
"""The L1C bands s2cloudless reads, in its order (B8A and B10 are fetched for it)."""
NO_CLOUD_INPUTS = "the product has neither SCL nor the bands s2cloudless needs"
"""Why ``--cloud-mask auto`` chose no cloud mask (said in the fetch summary)."""


def s2cloudless_lacks(served: tuple[str, ...] | None) -> tuple[str, ...]:
    """The bands s2cloudless reads that a scene serving ``served`` has no asset for (B8A is
    not listed in ``served``: never reported); ``()`` when unknown (None)."""
    if served is None:
        return ()
    return tuple(b for b in S2CLOUDLESS_BANDS if b != "B8A" and b not in served)


def classes_from_scl(scl: np.ndarray) -> np.ndarray:
    """Mask classes (uint8) of an SCL block (float, NaN = no data)."""
    out = np.full(scl.shape, CLEAR, dtype=np.uint8)
    out[~np.isfinite(scl)] = NODATA
    codes = np.nan_to_num(scl, nan=0).astype(np.int16)
    for code, cls in SCL_CLASSES.items():
        out[codes == code] = cls
    return out


def classes_from_probability(prob: np.ndarray, threshold: float = CLOUD_THRESHOLD) -> np.ndarray:
    """Mask classes of a cloud-probability block in [0, 1] (NaN = no data)."""
    out = np.full(prob.shape, CLEAR, dtype=np.uint8)
    out[np.nan_to_num(prob, nan=0.0) > threshold] = CLOUD
    out[~np.isfinite(prob)] = NODATA
    return out


def s2cloudless_probability(reflectance: Mapping[str, np.ndarray]) -> np.ndarray:
    """s2cloudless cloud probability (H×W float32, NaN where a band has no data) from L1C
    top-of-atmosphere reflectance (0-1, offset removed) of :data:`S2CLOUDLESS_BANDS`.

    Probabilities are per pixel (no averaging or dilation), so blocks do not interact."""
    from s2cloudless import S2PixelCloudDetector

    stack = np.stack([reflectance[b] for b in S2CLOUDLESS_BANDS], axis=-1)
    valid = np.isfinite(stack).all(axis=-1)
    detector = S2PixelCloudDetector(threshold=CLOUD_THRESHOLD, average_over=0, dilation_size=0)
    prob = detector.get_cloud_probability_maps(np.nan_to_num(stack, nan=0.0)[None])[0]
    return np.where(valid, prob, np.nan).astype(np.float32)


def decide_cloud_mask(
    source: ImagerySource, acquisitions: Sequence[Acquisition]
) -> tuple[str, str]:
    """(the configured cloud mask, ``auto``: the source's rule for these scenes; why ``auto``
    chose none, else ``""``). s2cloudless for a scene lacking its bands: :class:`SourceError`."""
    scenes = [s for a in acquisitions for s in a.scenes]
    if source.config.cloud_mask == "auto":
        method = source.auto_cloud_mask(scenes)
        return method, (NO_CLOUD_INPUTS if method == "none" else "")
    method = source.config.cloud_mask
    for scene in scenes if method == "s2cloudless" else ():
        if lacking := s2cloudless_lacks(scene.served):
            raise SourceError(
                f"the cloud mask s2cloudless needs band(s) {', '.join(lacking)}, which item "
                f"{scene.id} has no asset for (its assets are {', '.join(scene.asset_keys)}); "
                "use --cloud-mask none, or a product with an SCL asset (--cloud-mask scl)"
            )
    return method, ""


def cloud_inputs(method: str, s2_bands: Sequence[str]) -> tuple[str, ...]:
    """The extra assets a cloud mask method reads beside the stack's own bands."""
    if method == "scl":
        return ("SCL",)
    if method == "s2cloudless":
        return tuple(b for b in S2CLOUDLESS_BANDS if b not in s2_bands)
    return ("CLOUDPROB",) if method == "probability" else ()
