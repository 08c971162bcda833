"""Acquisition: an area and dates in, a detection-ready L4S stack out (no torch).

- :mod:`.aoi` — :class:`AOI`, :func:`parse_aoi`, :func:`utm_grid`
- :mod:`.sources` — :class:`SourceConfig`, the :class:`ImagerySource` protocol, :func:`make_source`
- :mod:`.acquisitions` — :class:`Acquisition`, :func:`search_acquisitions`
- :mod:`.stack` — :func:`fetch_stack` → :class:`StackResult`; :mod:`.pair` — :func:`fetch_pair`
- :mod:`.synthetic` — a local static STAC catalogue of real-format COGs for tests and demos
"""

from slidewatch.acquisition.acquisitions import Acquisition, search_acquisitions
from slidewatch.acquisition.aoi import AOI, parse_aoi, utm_grid
from slidewatch.acquisition.sources import ImagerySource, SceneInfo, SourceConfig, make_source
from slidewatch.acquisition.stack import StackResult, fetch_stack

__all__ = [
    "AOI",
    "Acquisition",
    "ImagerySource",
    "SceneInfo",
    "SourceConfig",
    "StackResult",
    "fetch_stack",
    "make_source",
    "parse_aoi",
    "search_acquisitions",
    "utm_grid",
]
