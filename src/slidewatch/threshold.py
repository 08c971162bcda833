"""The one decision rule: a pixel is a landslide when its probability is **at least** the
threshold (``p >= t``).

Every consumer of a threshold (the pixel metrics and their torchmetrics collection, the
training task, ``evaluate``, its calibration, ``detect`` and the figures) calls
:func:`is_landslide`, so a probability exactly at the threshold is classified the same way
everywhere. ``>=`` (rather than ``>``) is the rule of the calibration histogram (bin ``k``
holds ``k/1000 <= p``) and makes threshold 0.5 agree with ``logit >= 0``.

No torch import here: the function works on numpy arrays and torch tensors alike, so
torch-free inference can use it.
"""

from __future__ import annotations

from typing import TypeVar

RULE = "p >= threshold"
"""The rule in words (written to model files' documentation and the docs)."""

ArrayT = TypeVar("ArrayT")


def is_landslide(probability: ArrayT, threshold: float) -> ArrayT:
    """Boolean landslide mask of ``probability`` (numpy array or torch tensor): ``p >= t``."""
    return probability >= threshold  # type: ignore[operator,return-value]
