"""Products and the archive: ``storage`` (:class:`Archive`, the one class that writes runs'
files on any fsspec filesystem and reads them back), ``admission`` (which files a reader
may open: only those the registry names, inside the root), ``catalogue`` (the STAC item,
collections and root catalogue) and ``products`` (the change and RGB rasters a run adds to
detect's outputs, and a previous run's landslides read onto the current grid).
"""

from slidewatch.monitoring.archive.admission import Product, ProductNotFound
from slidewatch.monitoring.archive.catalogue import stac_item
from slidewatch.monitoring.archive.storage import Archive

__all__ = ["Archive", "Product", "ProductNotFound", "stac_item"]
