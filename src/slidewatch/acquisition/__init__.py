"""Acquisition: an area and dates in, a detection-ready L4S stack out (no torch).

- :mod:`.aoi` — :class:`AOI`, :func:`parse_aoi`, :func:`utm_grid`
- :mod:`.options` — :class:`SourceConfig` (common options) and each source's own
  (:class:`StacConfig`, :class:`EarthEngineConfig`), registered by kind; JSON form
- :mod:`.sources` — the :class:`ImagerySource` protocol, :class:`SceneInfo`,
  :func:`make_source`, :func:`kept_source`; the sources: :mod:`.stac`, :mod:`.earthengine`
- :mod:`.acquisitions` — :class:`Acquisition`, :func:`search_acquisitions`
- :mod:`.stack` — :func:`fetch_stack` → :class:`StackResult`; :mod:`.pair` — :func:`fetch_pair`
"""

from slidewatch.acquisition.acquisitions import Acquisition, search_acquisitions
from slidewatch.acquisition.aoi import AOI, parse_aoi, utm_grid
from slidewatch.acquisition.options import (
    SOURCE_KINDS,
    EarthEngineConfig,
    SourceConfig,
    StacConfig,
)
from slidewatch.acquisition.sources import ImagerySource, SceneInfo, kept_source, make_source
from slidewatch.acquisition.stack import StackResult, fetch_stack

__all__ = [
    "AOI",
    "SOURCE_KINDS",
    "Acquisition",
    "EarthEngineConfig",
    "ImagerySource",
    "SceneInfo",
    "SourceConfig",
    "StacConfig",
    "StackResult",
    "fetch_stack",
    "kept_source",
    "make_source",
    "parse_aoi",
    "search_acquisitions",
    "utm_grid",
]
