"""Sentinel-2 and elevation from Google Earth Engine (earthengine-api).

Credentials are the user's own: ``earthengine authenticate`` or a service account
(``GOOGLE_APPLICATION_CREDENTIALS``), and ``--gee-project``. Expressions are built
client-side (:func:`acquisition_image`, :func:`dem_image`); the service is called in two
places only — :meth:`EarthEngineSource._compute_value` (searches) and
:meth:`EarthEngineSource._compute_pixels` (pixels, one request per dask chunk, sized under
``computePixels``' limits by :mod:`.requests`). Resampling: spectral bands nearest
(Earth Engine's default), the DEM bilinear.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch.acquisition.earthengine.requests import (
    CLOUD_PROBABILITY,
    DEM_BANDS,
    FILL,
    SCENE_PROPERTIES,
    band_list,
    request_chunks,
    request_grid,
    scene_from_properties,
)
from slidewatch.acquisition.options import EarthEngineConfig
from slidewatch.acquisition.served import l2a_by_name
from slidewatch.acquisition.sources import Channel, SceneInfo
from slidewatch.errors import SourceError

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.aoi import AOI

MAX_SCENES = 5000


def initialize(project: str | None) -> None:
    """``ee.Initialize`` with the user's credentials, once; a clear error without them."""
    import ee

    if ee.data.is_initialized():
        return
    try:
        ee.Initialize(project=project)
    except Exception as exc:  # ee raises EEException or google.auth errors
        raise SourceError(
            f"Earth Engine could not be initialised ({exc}); run `earthengine authenticate` "
            "(or set GOOGLE_APPLICATION_CREDENTIALS to a service account key) and give "
            "--gee-project"
        ) from exc


def scene_collection(collection: str, aoi: AOI, start: datetime, end: datetime) -> Any:
    """The images of ``collection`` over ``aoi`` from ``start`` to ``end`` (inclusive)."""
    import ee

    region = ee.Geometry(aoi.to_geojson())
    end_exclusive = end + timedelta(milliseconds=1)
    return (
        ee.ImageCollection(collection)
        .filterBounds(region)
        .filterDate(start.isoformat(), end_exclusive.isoformat())
    )


def properties_expression(images: Any) -> Any:
    """A list of each image's :data:`SCENE_PROPERTIES` (one small ``computeValue``)."""
    import ee

    def props(image: Any) -> Any:
        return ee.Feature(None, image.toDictionary(list(SCENE_PROPERTIES[2:]))).set(
            "system:index",
            image.get("system:index"),
            "system:time_start",
            image.get("system:time_start"),
        )

    return images.limit(MAX_SCENES).map(props).aggregate_array(".all")


def acquisition_image(
    collection: str,
    ids: Sequence[str],
    bands: Sequence[str],
    overrides: Mapping[str, str] | None = None,
) -> Any:
    """One acquisition's mosaic of ``bands`` (float32; masked pixels :data:`FILL`), the
    collection's band names (``overrides``, else the L4S names) renamed to the L4S names."""
    import ee

    selected, names, with_prob = band_list(bands, overrides)
    scenes = ee.ImageCollection(collection).filter(ee.Filter.inList("system:index", list(ids)))
    image: Any = scenes.select(selected, names).mosaic().toFloat() if selected else None
    if with_prob:
        prob = (
            ee.ImageCollection(CLOUD_PROBABILITY)
            .filter(ee.Filter.inList("system:index", list(ids)))
            .select(["probability"])
            .mosaic()
            .divide(100)
            .toFloat()
            .rename("CLOUDPROB")
        )
        image = prob if image is None else image.addBands(prob)
    return image.unmask(FILL, False)


def dem_image(dem_collection: str) -> Any:
    """Elevation (metres, float32, bilinear) of an Earth Engine DEM image or collection."""
    import ee

    band = DEM_BANDS.get(dem_collection)
    if dem_collection in ("USGS/SRTMGL1_003", "NASA/NASADEM_HGT/001"):
        image = ee.Image(dem_collection)
    else:
        images = ee.ImageCollection(dem_collection)
        image = images.mosaic().setDefaultProjection(images.first().projection())
    image = image.select([band] if band else [0])
    return image.resample("bilinear").toFloat().rename("dem").unmask(FILL, False)


class EarthEngineSource:
    """An :class:`~slidewatch.acquisition.sources.ImagerySource` on Earth Engine. Earth
    Engine is initialised at the first search or load, not when the source is made."""

    def __init__(self, config: EarthEngineConfig) -> None:
        self.config = config

    @property
    def catalogue(self) -> str:
        return "Earth Engine"

    def provenance(self) -> dict[str, str]:
        # The STAC URL stays recorded, empty, so that every stack's item has the same keys.
        return {"slidewatch:source": self.config.kind, "slidewatch:stac_url": ""}

    def serves_b10(self) -> bool | None:
        """From the collection's name (``S2_SR``: L2A, no B10)."""
        by_name = l2a_by_name(self.config.collection)
        return None if by_name is None else not by_name

    def auto_cloud_mask(self, scenes: Sequence[SceneInfo]) -> str:
        """``COPERNICUS/S2_CLOUD_PROBABILITY`` of the same scenes."""
        return "probability"

    def _compute_value(self, expression: Any) -> Any:
        import ee

        try:
            return ee.data.computeValue(expression)
        except ee.EEException as exc:
            raise SourceError(
                f"Earth Engine refused the search: {exc}; check --collection"
            ) from exc

    def _compute_pixels(self, expression: Any, grid: dict[str, Any]) -> np.ndarray:
        import ee

        try:
            return ee.data.computePixels(
                {"expression": expression, "fileFormat": "NUMPY_NDARRAY", "grid": grid}
            )
        except ee.EEException as exc:
            raise SourceError(f"Earth Engine refused a pixel request: {exc}") from exc

    def search(self, aoi: AOI, start: datetime, end: datetime, max_cloud: float) -> list[SceneInfo]:
        initialize(self.config.gee_project)
        images = scene_collection(self.config.collection, aoi, start, end)
        answer = self._compute_value(properties_expression(images))
        rows = answer.get("value", answer) if isinstance(answer, dict) else answer
        scenes = [
            scene_from_properties(p, self.config.collection, self.config.dn_offset) for p in rows
        ]
        return [s for s in scenes if s.cloud_cover is None or s.cloud_cover <= max_cloud]

    def _lazy(
        self, image: Any, names: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, da.Array]:
        import dask
        import dask.array as da

        height, width = geobox.shape.y, geobox.shape.x
        rows, cols = request_chunks(height, width, len(names), chunk_px)
        blocks, r0 = [], 0
        for h in rows:
            line, c0 = [], 0
            for w in cols:
                grid = request_grid(str(geobox.crs), geobox.affine, r0, c0, h, w)
                task = dask.delayed(self._read_block)(image, grid, tuple(names))
                line.append(da.from_delayed(task, (len(names), h, w), dtype=np.float32))
                c0 += w
            blocks.append(line)
            r0 += h
        stack = da.block([blocks])  # C×H×W: requests tile rows and columns
        return {name: stack[i] for i, name in enumerate(names)}

    def _read_block(self, image: Any, grid: dict[str, Any], names: tuple[str, ...]) -> np.ndarray:
        data = self._compute_pixels(image, grid)
        out = np.stack([np.asarray(data[n], dtype=np.float32) for n in names])
        out[out == FILL] = np.nan
        return out

    def load(
        self, scenes: Sequence[SceneInfo], bands: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, Channel]:
        initialize(self.config.gee_project)
        ids, overrides = [s.id for s in scenes], self.config.asset_key_overrides
        image = acquisition_image(self.config.collection, ids, bands, overrides)
        return {b: Channel(a) for b, a in self._lazy(image, bands, geobox, chunk_px).items()}

    def load_dem(self, aoi: AOI, geobox: GeoBox, chunk_px: int) -> tuple[da.Array, str]:
        initialize(self.config.gee_project)
        dem = self._lazy(dem_image(self.config.dem_collection), ["dem"], geobox, chunk_px)
        return dem["dem"], f"Earth Engine {self.config.dem_collection}"
