"""Per-band normalisation statistics that travel with a model.

The paper min-max normalises every band with minima and maxima of the training split.
:class:`Normalization` stores, per band, an ``offset`` and a ``scale`` so that every method
is one affine map ``(x - offset) / scale``:

- ``minmax``: offset = min, scale = max - min (optionally at percentiles, e.g. 1/99);
- ``standard``: offset = mean, scale = std;
- ``none``: offset = 0, scale = 1.

It is serialised as a small JSON-able dict (:meth:`to_dict`) inside the model file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slidewatch.bands import band_indices, resolve_bands
from slidewatch.errors import ConfigError

METHODS = ("minmax", "standard", "none")


@dataclass(frozen=True)
class Normalization:
    """An affine per-band normalisation ``(x - offset) / scale`` over named bands."""

    method: str
    """One of :data:`METHODS`."""
    bands: tuple[str, ...]
    """Band names, in the order of ``offset`` and ``scale``."""
    offset: tuple[float, ...]
    """Subtracted per band (min, mean or 0)."""
    scale: tuple[float, ...]
    """Divisor per band (max - min, std or 1); never zero."""
    percentiles: tuple[float, float] | None = None
    """For ``minmax``: the percentiles used instead of the true min and max, if any."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"unknown normalisation {self.method!r}; valid names: {', '.join(METHODS)}"
            )
        if not (len(self.bands) == len(self.offset) == len(self.scale)):
            raise ConfigError("normalisation bands, offset and scale must have equal length")

    def select(self, bands: Sequence[str]) -> Normalization:
        """The same statistics restricted (and reordered) to ``bands``."""
        idx = band_indices(bands, self.bands)
        return Normalization(
            self.method,
            tuple(self.bands[i] for i in idx),
            tuple(self.offset[i] for i in idx),
            tuple(self.scale[i] for i in idx),
            self.percentiles,
        )

    def arrays(self, channel_axis: int = 0, ndim: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Offset and scale as float32 arrays broadcastable along ``channel_axis``."""
        shape = [1] * ndim
        shape[channel_axis] = len(self.bands)
        off = np.asarray(self.offset, dtype=np.float32).reshape(shape)
        sc = np.asarray(self.scale, dtype=np.float32).reshape(shape)
        return off, sc

    def apply(self, x: np.ndarray, channel_axis: int = 0) -> np.ndarray:
        """Normalise ``x`` (channels along ``channel_axis``) to float32."""
        off, sc = self.arrays(channel_axis % x.ndim, x.ndim)
        return ((x.astype(np.float32, copy=False) - off) / sc).astype(np.float32, copy=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (inverse of :meth:`from_dict`)."""
        return {
            "method": self.method,
            "bands": list(self.bands),
            "offset": [float(v) for v in self.offset],
            "scale": [float(v) for v in self.scale],
            "percentiles": list(self.percentiles) if self.percentiles else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalization:
        """Rebuild from :meth:`to_dict` output; raises ConfigError on malformed input."""
        try:
            pct = d.get("percentiles")
            return cls(
                str(d["method"]),
                resolve_bands(list(d["bands"])),
                tuple(float(v) for v in d["offset"]),
                tuple(float(v) for v in d["scale"]),
                (float(pct[0]), float(pct[1])) if pct else None,
            )
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ConfigError(f"malformed normalisation description: {exc}") from exc

    @classmethod
    def identity(cls, bands: Sequence[str]) -> Normalization:
        """``method='none'``: values pass through unchanged."""
        names = resolve_bands(bands)
        return cls("none", names, (0.0,) * len(names), (1.0,) * len(names))


def _safe_scale(scale: np.ndarray) -> np.ndarray:
    # A constant band (e.g. B10 cirrus on clear days) would divide by zero.
    return np.where(np.abs(scale) > 1e-12, scale, 1.0)


def normalization_from_arrays(
    method: str,
    bands: Sequence[str],
    *,
    minimum: np.ndarray | None = None,
    maximum: np.ndarray | None = None,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
    percentiles: tuple[float, float] | None = None,
) -> Normalization:
    """Build a :class:`Normalization` from per-band statistics already computed."""
    names = resolve_bands(bands)
    n = len(names)
    if method == "none":
        return Normalization.identity(names)
    if method == "minmax":
        if minimum is None or maximum is None:
            raise ConfigError("minmax normalisation needs per-band minimum and maximum")
        off, sc = (
            np.asarray(minimum, float),
            np.asarray(maximum, float) - np.asarray(minimum, float),
        )
    elif method == "standard":
        if mean is None or std is None:
            raise ConfigError("standard normalisation needs per-band mean and std")
        off, sc = np.asarray(mean, float), np.asarray(std, float)
    else:
        raise ConfigError(f"unknown normalisation {method!r}; valid names: {', '.join(METHODS)}")
    if off.shape != (n,) or sc.shape != (n,):
        raise ConfigError(f"expected {n} statistics per kind, got {off.shape} and {sc.shape}")
    sc = _safe_scale(sc)
    return Normalization(
        method, names, tuple(map(float, off)), tuple(map(float, sc)),
        percentiles if method == "minmax" else None,
    )  # fmt: skip
