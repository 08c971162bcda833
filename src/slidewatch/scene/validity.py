"""The one pixel validity rule, shared by patch building and detection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def valid_pixels(values: np.ndarray, unmasked: np.ndarray, zero_is_nodata: bool) -> np.ndarray:
    """The H×W valid pixels of C×H×W scene ``values``: the rule for patches and detection.

    A pixel is invalid when any band is masked (``unmasked`` is False: the band's nodata
    value, an internal or alpha mask, or no tile of a mosaic covering it), when any band is
    not finite, and, with ``zero_is_nodata`` (the scene declares no nodata, see
    :func:`zeros_are_nodata`), when it is exactly 0 in every band: Sentinel-2's fill value,
    which exporters often leave undeclared. Band by band, so no C×H×W temporary is made.
    """
    valid = unmasked.copy()
    nonzero = np.zeros_like(valid)
    for band in values:
        valid &= np.isfinite(band)
        if zero_is_nodata:
            nonzero |= band != 0
    return valid & nonzero if zero_is_nodata else valid


def zeros_are_nodata(datasets: Sequence[Any]) -> bool:
    """Whether pixels that are 0 in every band count as nodata: when no file declares one."""
    return all(ds.nodata is None for ds in datasets)


def masked_valid(block: np.ma.MaskedArray, zero_is_nodata: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(values C×H×W, valid H×W)`` of a masked read (see :func:`valid_pixels`)."""
    values = np.ma.getdata(block)
    unmasked = ~np.asarray(np.ma.getmaskarray(block).any(axis=0))
    return values, valid_pixels(values, unmasked, zero_is_nodata)
