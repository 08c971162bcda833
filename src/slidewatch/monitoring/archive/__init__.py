"""Products and the archive: ``storage`` (:class:`Archive`: runs' files on any fsspec
filesystem with a STAC catalogue) and ``products`` (the change and RGB rasters a run adds
to detect's outputs, and a previous run's landslides read onto the current grid).
"""

from slidewatch.monitoring.archive.storage import Archive, stac_item

__all__ = ["Archive", "stac_item"]
