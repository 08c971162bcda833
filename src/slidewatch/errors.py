"""The small error hierarchy of slidewatch.

Every error a user can cause derives from :class:`SlidewatchError`; the CLI turns these
into a one-line message and a non-zero exit code. Each subclass also derives from the
matching builtin so library callers can catch what they expect. Messages name the file
or value at fault and end with what to do.
"""

from __future__ import annotations


class SlidewatchError(Exception):
    """Base class of every error slidewatch raises on purpose."""


class BandError(SlidewatchError, KeyError):
    """An unknown band or band-set name, or bands that do not fit together."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class DatasetError(SlidewatchError, ValueError):
    """A patch dataset (folder, HDF5 file, split file) is missing, corrupt or malformed."""


class RasterError(SlidewatchError, ValueError):
    """A georeferenced raster or vector input is unreadable, lacks a CRS or does not fit."""


class ModelError(SlidewatchError, ValueError):
    """A model file is missing, corrupt, or does not fit the data."""


class RegistryError(SlidewatchError, KeyError):
    """An unknown name was looked up in a registry (models, losses, layouts...)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(SlidewatchError, ValueError):
    """A configuration file or option value is invalid."""


def unknown_name(kind: str, name: str, valid: list[str] | tuple[str, ...]) -> RegistryError:
    """Build the standard 'unknown X' error that lists the valid names."""
    return RegistryError(f"unknown {kind} {name!r}; valid names: {', '.join(valid)}")


class AOIError(SlidewatchError, ValueError):
    """An area of interest is unreadable, invalid, too large or crosses the antimeridian."""


class SourceError(SlidewatchError, RuntimeError):
    """An imagery catalogue or service failed, or answered something unusable."""


class NoSceneError(SourceError):
    """A search found no usable scene (none at all, or every one too cloudy)."""
