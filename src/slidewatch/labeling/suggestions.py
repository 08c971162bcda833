"""The model's suggestion for a patch, and the active-learning order.

The model runs through the torch-free ONNX engine
(:func:`slidewatch.inference.engine.load_engine`, ``engine="onnx"``): it takes N×C×H×W
float32 L4S-scale images in the model's bands (:attr:`bands`) and gives N×H×W
probabilities; the suggestion is ``probability >= threshold`` (the model's own threshold).
Probabilities are cached per patch (keyed by the image file's modification time).

A patch is never predicted alone: a network's zero padding makes its border unlike any
other pixel, and a calibrated (low) threshold then suggested whole patch edges as
landslides. The model sees the patch in a frame of :data:`FRAME_PX` pixels (:func:`framed`):
the scene around it when the labeling tool has it (:mod:`.context`), reflection of the patch
elsewhere; the probabilities are cropped back to the patch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from slidewatch.bands import band_indices
from slidewatch.errors import BandError, ModelError

FRAME_PX = 32
"""Pixels of context on each side of a patch when it is predicted (then cropped away)."""
SIZE_MULTIPLE = 32
"""Framed inputs are padded further to a multiple of this (the coarsest network stride)."""


def framed(
    image: np.ndarray, context: np.ndarray | None = None, frame_px: int = FRAME_PX
) -> tuple[np.ndarray, tuple[int, int]]:
    """``image`` (H×W×C) inside a frame, and where it starts (row, column).

    ``context``: (H+2f)×(W+2f)×C around the patch (``f`` = ``frame_px``), NaN where unknown;
    its known pixels frame the patch, reflection of the patch fills the rest. The result is
    extended (by reflection) on the bottom and right to multiples of :data:`SIZE_MULTIPLE`.
    """
    h, w = image.shape[:2]
    f = frame_px
    out_h = -(-(h + 2 * f) // SIZE_MULTIPLE) * SIZE_MULTIPLE
    out_w = -(-(w + 2 * f) // SIZE_MULTIPLE) * SIZE_MULTIPLE
    pad = ((f, out_h - h - f), (f, out_w - w - f), (0, 0))
    out = np.pad(image.astype(np.float32), pad, mode="reflect")
    if context is not None and context.shape[:2] == (h + 2 * f, w + 2 * f):
        known = np.isfinite(context).all(axis=-1)
        out[: h + 2 * f, : w + 2 * f][known] = context[known]
        out[f : f + h, f : f + w] = image  # the patch itself, exactly as stored
    return out, (f, f)


class Engine(Protocol):
    """What the labeller needs of an inference engine."""

    @property
    def bands(self) -> tuple[str, ...]: ...

    @property
    def threshold(self) -> float: ...

    def predict(self, images: np.ndarray) -> np.ndarray:
        """N×C×H×W float32 L4S -> N×H×W probabilities."""
        ...


def load_onnx_engine(model_dir: Path) -> Engine:
    """The project's ONNX engine for ``model_dir`` (never torch)."""
    from slidewatch.inference.engine import load_engine

    engine: Engine = load_engine(model_dir, engine="onnx")
    return engine


@dataclass(frozen=True)
class Suggestion:
    """The model's view of one patch."""

    probability: np.ndarray
    """H×W float32 in [0, 1]."""
    threshold: float

    @property
    def mask(self) -> np.ndarray:
        """H×W uint8 0/1: ``probability >= threshold``."""
        return (self.probability >= self.threshold).astype(np.uint8)

    @property
    def uncertainty(self) -> float:
        """Mean of p·(1−p) over the patch (see :func:`uncertainty`)."""
        return uncertainty(self.probability)


def uncertainty(probability: np.ndarray) -> float:
    """Mean of p·(1−p): 0 where the model is sure, 0.25 where it says 0.5 everywhere.
    "Most uncertain first" sorts patches by this, largest first."""
    p = probability.astype(np.float64)
    return float((p * (1.0 - p)).mean())


def fraction_changed(mask: np.ndarray, suggestion: np.ndarray) -> float:
    """Fraction of pixels where the saved ``mask`` differs from the suggested one."""
    return float((mask.astype(bool) != suggestion.astype(bool)).mean())


class Suggester:
    """One engine, loaded on first use, with a per-patch cache of probabilities."""

    def __init__(self, model_dir: Path, loader: Callable[[Path], Engine] = load_onnx_engine):
        self.model_dir = Path(model_dir)
        self._loader = loader
        self._engine: Engine | None = None
        self._cache: dict[tuple[str, int], np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The loaded engine (ModelError when the model directory cannot be loaded)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._loader(self.model_dir)
            return self._engine

    def describe(self) -> dict[str, Any]:
        """Model directory, bands and threshold (for the page)."""
        e = self.engine
        return {"model": str(self.model_dir), "bands": list(e.bands), "threshold": e.threshold}

    def suggest(
        self,
        image: np.ndarray,
        bands: tuple[str, ...],
        cache_key: tuple[str, int],
        context: Callable[[], np.ndarray | None] | None = None,
    ) -> Suggestion:
        """The suggestion for an H×W×C L4S ``image`` with ``bands``, predicted in a frame
        (:func:`framed`): ``context`` returns the scene around the patch, or None (it is
        called only when the probabilities are not cached yet).

        BandError when the patch lacks a band the model needs.
        """
        engine = self.engine
        if cache_key not in self._cache:
            try:
                idx = band_indices(list(engine.bands), bands)
            except BandError as exc:
                raise BandError(
                    f"the model needs bands {','.join(engine.bands)} but this patch has "
                    f"{','.join(bands)} ({exc}); use a model trained on the patch's bands"
                ) from None
            around = context() if context is not None else None
            frame, (row, col) = framed(image, around)
            batch = np.moveaxis(frame[..., idx], -1, 0)[None].astype(np.float32)
            probs = np.asarray(engine.predict(np.ascontiguousarray(batch)))
            if probs.ndim == 4:  # N×1×H×W from engines that keep the channel
                probs = probs[:, 0]
            if probs.shape[1:] != frame.shape[:2]:
                raise ModelError(
                    f"model {self.model_dir} returned {probs.shape} for a {frame.shape[:2]} "
                    "input; use a model for this patch size"
                )
            h, w = image.shape[:2]
            self._cache[cache_key] = probs[0, row : row + h, col : col + w].astype(np.float32)
        return Suggestion(self._cache[cache_key], float(engine.threshold))
