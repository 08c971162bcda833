"""SYNTHETIC data for the demo, the tests, the benchmarks and the docs' walkthroughs.

Every generator of slidewatch lives here, seeded and small, and says what it makes is
synthetic (docstrings, a ``SYNTHETIC`` GeoTIFF tag, the catalogue's description):

- :mod:`.area` — a mountain area (fractal terrain, a river valley, vegetation, landslide
  scars on steep slopes): arrays, a 14-band L4S scene + labels GeoTIFF, patches cut from it
- :mod:`.patches` — tiny L4S patch datasets (HDF5) in the three folder layouts, with their
  statistics known in advance
- :mod:`.scenes` — Sentinel-2 scenes of the area as raw digital numbers per band
- :mod:`.catalog` — a local static STAC catalogue of real-format COGs (10/20/60 m bands,
  offsets as real products state them, SCL, clouds, a 30 m DEM)
- :mod:`.example` — the monitoring example: one area on two dates, a new scar, a cloud
- :mod:`.model` — a model whose output is known exactly (a U-Net with hand-set weights:
  landslide where ``-0.9*B2 + B4 - 0.2*B8 > 0``), for tests of what follows detection
- :mod:`.safe` — Sentinel-2 products as the Copernicus Data Space delivers them (SAFE
  folders with their metadata XML, band files in JPEG 2000 or GeoTIFF, zips), for
  ``catalog build``

It sits above ``data`` and ``acquisition`` (whose formats it writes) and below the demo and
the CLI; nothing in the library's own pipeline imports it.
"""

from slidewatch.synthetic.area import (
    CRS,
    ORIGIN,
    SyntheticArea,
    make_synthetic_area,
    make_synthetic_patches,
    slope_degrees,
    synthetic_arrays,
)
from slidewatch.synthetic.catalog import dem_item, item_dicts, write_catalog
from slidewatch.synthetic.example import Example, lonlat_box, write_example
from slidewatch.synthetic.patches import GeneratedDataset, make_l4s_dataset, make_patch
from slidewatch.synthetic.scenes import SyntheticScene, area_bands

__all__ = [
    "CRS",
    "ORIGIN",
    "Example",
    "GeneratedDataset",
    "SyntheticArea",
    "SyntheticScene",
    "area_bands",
    "dem_item",
    "item_dicts",
    "lonlat_box",
    "make_l4s_dataset",
    "make_patch",
    "make_synthetic_area",
    "make_synthetic_patches",
    "slope_degrees",
    "synthetic_arrays",
    "write_catalog",
    "write_example",
]
