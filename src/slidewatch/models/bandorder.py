"""Map a patch's bands to a model's band order (no torch needed).

Patch files store bands in catalogue order (B1..B12, slope, DEM, or a subset such as
B2,B3,B4,B8), while a model expects the order it was trained with (``model.json``'s
``bands``, the ONNX input's doc string and metadata). Feeding one to the other without
reordering gives a silently wrong result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slidewatch.bands import band_indices


def band_order_indices(patch_bands: Sequence[str], model_bands: Sequence[str]) -> list[int]:
    """Indices into ``patch_bands`` that give ``model_bands`` in order.

    Accepts the aliases of :func:`slidewatch.bands.canonical_name` (``B04``, ``red``, ...);
    a BandError names a band the patch lacks.

    >>> band_order_indices(["B2", "B3", "B4", "B8"], ["B4", "B3", "B2", "B8"])
    [2, 1, 0, 3]
    """
    return band_indices(model_bands, patch_bands)


def reorder_bands(
    image: np.ndarray,
    patch_bands: Sequence[str],
    model_bands: Sequence[str],
    channel_axis: int = 0,
) -> np.ndarray:
    """``image`` with its channels (along ``channel_axis``) put in ``model_bands`` order.

    Extra patch bands the model does not use are dropped.
    """
    if image.shape[channel_axis] != len(patch_bands):
        from slidewatch.errors import BandError

        raise BandError(
            f"the image holds {image.shape[channel_axis]} channels along axis {channel_axis} "
            f"but {len(patch_bands)} patch bands were named ({', '.join(patch_bands)}); "
            "name every channel in order"
        )
    return np.take(image, band_order_indices(patch_bands, model_bands), axis=channel_axis)
