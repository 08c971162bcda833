"""A monitoring example that needs nothing from the internet: a local static STAC catalogue
of one synthetic mountain area seen on two dates, a new landslide scar appearing in the
second, and a cloud over part of the second hiding an old scar. The tests, the benchmark
and the walkthrough in docs/monitoring.md use it. The data are SYNTHETIC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

FIRST = datetime(2023, 3, 1, 15, 0, tzinfo=UTC)
SECOND = datetime(2023, 3, 6, 15, 0, tzinfo=UTC)
MARGIN_PX = 6
"""The AOI stays this far inside the scene (the fetched grid is snapped outwards)."""


@dataclass(frozen=True)
class Example:
    catalog: Path
    aoi: dict[str, Any]
    """The AOI (lon/lat Polygon)."""
    new_scar: dict[str, Any]
    """Outline (lon/lat box) of the scar that appears on the second date."""
    cloud: dict[str, Any]
    """Outline (lon/lat box) of the cloud on the second date."""
    hidden_scar: dict[str, Any]
    """Outline (lon/lat box) of an old scar under that cloud."""


def lonlat_box(rows: slice, cols: slice, origin: tuple[float, float], crs: str) -> dict[str, Any]:
    """The lon/lat polygon of pixel ``rows`` × ``cols`` of a 10 m grid at ``origin``."""
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping

    x0, y0 = origin
    bounds = (x0 + 10 * cols.start, y0 - 10 * rows.stop, x0 + 10 * cols.stop, y0 - 10 * rows.start)
    return dict(transform_geom(crs, "EPSG:4326", mapping(box(*bounds))))


def _new_scar_site(scars: np.ndarray, steep: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    """Top-left of the steepest free ``size`` block at least 3 px from any old scar."""
    from scipy.ndimage import binary_dilation

    blocked = binary_dilation(scars, iterations=3)
    h, w = scars.shape
    best, best_score = None, -1.0
    for r in range(MARGIN_PX + 2, h - size[0] - MARGIN_PX - 2, 3):
        for c in range(MARGIN_PX + 2, w - size[1] - MARGIN_PX - 2, 3):
            block = (slice(r, r + size[0]), slice(c, c + size[1]))
            score = float(steep[block].mean())
            if not blocked[block].any() and score > best_score:
                best, best_score = (r, c), score
    if best is None:
        raise ValueError("no room for a new scar; use a larger example area")
    return best


def _largest_scar_box(scars: np.ndarray) -> tuple[slice, slice]:
    from scipy.ndimage import find_objects, label

    labels, _ = label(scars)
    sizes = np.bincount(labels.ravel())[1:]
    box = find_objects(labels)[int(np.argmax(sizes))]
    return box[0], box[1]


def _snap(span: slice, size_px: int, step: int = 6) -> slice:
    """``span`` widened by 4 px and snapped outwards to ``step`` (the 60 m bands' pixels), so
    the cloud is painted and masked (SCL at 20 m) on the same pixels."""
    start = max(0, (span.start - 4) // step * step)
    stop = min(size_px, -(-(span.stop + 4) // step) * step)
    return slice(start, stop)


def write_example(root: Path, size_px: int = 180, seed: int = 3) -> Example:
    """Write the two-date catalogue under ``root`` (``size_px``: a multiple of 6)."""
    from slidewatch.synthetic.area import CRS, ORIGIN, slope_degrees
    from slidewatch.synthetic.catalog import write_catalog
    from slidewatch.synthetic.scenes import SyntheticScene, area_bands

    bands1, dem, scars = area_bands(size_px, size_px, seed)
    rows, cols = _largest_scar_box(scars)
    cloud = (
        slice(max(rows.start - 4, 0), rows.stop + 4),
        slice(max(cols.start - 4, 0), cols.stop + 4),
    )
    others = scars.copy()
    others[cloud] = True  # the new scar must not sit under the cloud either
    r, c = _new_scar_site(others, slope_degrees(dem), (9, 7))
    new = (slice(r, r + 9), slice(c, c + 7))
    scars2 = scars.copy()
    scars2[new] = True
    bands2, _, _ = area_bands(size_px, size_px, seed, scars=scars2)
    cloud_mask = np.zeros_like(scars)
    cloud_mask[cloud] = True
    root = Path(root).resolve()  # relative roots give broken asset hrefs
    catalog = write_catalog(
        root,
        [SyntheticScene("S2A_EXAMPLE_20230301", FIRST, bands1),
         SyntheticScene("S2B_EXAMPLE_20230306", SECOND, bands2, cloud=cloud_mask)],
        dem,
    )  # fmt: skip
    inner = slice(MARGIN_PX, size_px - MARGIN_PX)
    example = Example(
        catalog=catalog,
        aoi=lonlat_box(inner, inner, ORIGIN, CRS),
        new_scar=lonlat_box(*new, ORIGIN, CRS),
        cloud=lonlat_box(*cloud, ORIGIN, CRS),
        hidden_scar=lonlat_box(rows, cols, ORIGIN, CRS),
    )
    (Path(root) / "aoi.geojson").write_text(json.dumps(example.aoi))
    return example
