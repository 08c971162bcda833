"""Sentinel-2 and elevation from Google Earth Engine (earthengine-api, the user's credentials).

- :mod:`.requests` — the pure parts: request tiling under ``computePixels``' limits, request
  grids, band names, the date rule, scene properties (no ``ee`` import)
- :mod:`.source` — :class:`~.source.EarthEngineSource`: expressions built client-side and
  the only two calls to the service (``computeValue``, ``computePixels``)

Nothing outside this package imports it except the registry of source kinds
(:data:`slidewatch.acquisition.options.SOURCE_KINDS`); tests replace the service at
``ee.data`` (``tests/acquisition/test_earthengine.py``).
"""
