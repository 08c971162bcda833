"""Imagery a user already has, as a static STAC catalogue that ``fetch`` and ``monitor``
read as they read any other (``slidewatch catalog build``, docs/acquisition.md).

- :mod:`.inputs` — sorting the paths given: SAFE products (folders, zips), GeoTIFF band files
- :mod:`.safe` — items of SAFE products by stactools-sentinel2, offsets and grids checked
  against the product's own metadata and files
- :mod:`.geotiff` — items of GeoTIFF band files and of a DEM by rio-stac
- :mod:`.build` — the catalogue: one collection per level and the DEM's, written atomically
"""

from slidewatch.acquisition.catalog.build import CatalogedItem, CatalogResult, build_catalog
from slidewatch.acquisition.catalog.geotiff import GeoTiffOptions
from slidewatch.acquisition.catalog.inputs import CatalogInputError

__all__ = ["CatalogInputError", "CatalogResult", "CatalogedItem", "GeoTiffOptions", "build_catalog"]
