"""Sentinel-2 and elevation from STAC: a STAC API or a static catalogue.

- :mod:`.items` — each item parsed once into a frozen :class:`~.items.ParsedItem`
- :mod:`.finders` — :class:`~.finders.ItemQuery` (the one filter) and the static catalogue's
  finder; :mod:`.api` — a STAC API's finder (pystac-client, retries)
- :mod:`.assets` — which asset holds which band
- :mod:`.source` — :class:`~.source.StacSource`: search, load (odc-stac), DEM
- :mod:`.native` — 20 m and 60 m bands loaded on their own pixels

Nothing outside this package imports it except the registry of source kinds
(:data:`slidewatch.acquisition.options.SOURCE_KINDS`).
"""
