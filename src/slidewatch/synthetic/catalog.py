"""A local static STAC catalogue of small, real-format Sentinel-2 and DEM COGs, for tests,
benchmarks and demos. The data are SYNTHETIC.

:func:`write_catalog` writes every band of each :class:`~.scenes.SyntheticScene` at its
native resolution (10/20/60 m, block means), adds the +1000 offset for processing baseline
04.00 and later (stated in ``raster:bands`` and ``s2:processing_baseline`` as real
catalogues do), paints clouds (bright in every band, SCL 9), and writes an elevation
collection at 30 m. :func:`item_dicts` gives the items for a STAC API test server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.acquisition.offset import baseline_has_offset
from slidewatch.acquisition.stac.assets import ASSET_KEYS, COMMON_NAMES
from slidewatch.synthetic.area import CRS, ORIGIN
from slidewatch.synthetic.scenes import NATIVE_M, SyntheticScene, downsample, scene_arrays


def _write_cog(path: Path, data: np.ndarray, crs: str, transform: Any, nodata: float) -> None:
    import rasterio

    profile = {
        "driver": "COG",
        "dtype": str(data.dtype),
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "blocksize": 256,
        "overview_resampling": "nearest",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _footprint(crs: str, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping

    return dict(transform_geom(crs, "EPSG:4326", mapping(box(*bounds))))


def _asset_key(band: str, style: str) -> str:
    return ASSET_KEYS[band][0] if style == "esa" else ASSET_KEYS[band][1]


def _item(
    scene: SyntheticScene,
    folder: Path,
    collection: str,
    style: str,
    raster_offset: bool,
    with_scl: bool = True,
    with_b10: bool = True,
) -> Any:
    import pystac
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)
    arrays = scene_arrays(scene)
    h, w = arrays["B2"].shape
    bounds = (scene.origin[0], scene.origin[1] - 10 * h, scene.origin[0] + 10 * w, scene.origin[1])
    cover = scene.cloud_cover
    if cover is None:
        cover = 100.0 * float(scene.cloud.mean()) if scene.cloud is not None else 0.0
    epsg = int(scene.crs.split(":")[1])
    item = pystac.Item(
        id=scene.id,
        geometry=_footprint(scene.crs, bounds),
        bbox=None,
        datetime=scene.datetime,
        properties={
            "platform": "sentinel-2a",
            "eo:cloud_cover": cover,
            "s2:mgrs_tile": scene.tile,
            "s2:processing_baseline": scene.baseline,
            "s2:generation_time": scene.processed,
            "proj:epsg": epsg,
        }
        | ({} if scene.relative_orbit is None else {"sat:relative_orbit": scene.relative_orbit}),
    )
    item.bbox = list(_bbox(item.geometry or {}))
    offset = 1000.0 if baseline_has_offset(scene.baseline) else 0.0
    for band, data in arrays.items():
        if (band == "SCL" and not with_scl) or (band == "B10" and not with_b10):
            continue
        res = NATIVE_M[band]
        native = downsample(data, res // 10, categorical=band == "SCL")
        dtype = np.uint8 if band == "SCL" else np.uint16
        key = _asset_key(band, style)
        path = folder / f"{key}.tif"
        transform = from_origin(scene.origin[0], scene.origin[1], res, res)
        _write_cog(path, np.round(native).astype(dtype), scene.crs, transform, 0)
        raster: dict[str, Any] = {
            "nodata": 0,
            "data_type": dtype.__name__,
            "spatial_resolution": res,
        }
        if band != "SCL" and raster_offset:
            raster |= {"scale": 1e-4, "offset": -offset * 1e-4}
        extra = {
            "raster:bands": [raster],
            "proj:shape": list(native.shape),
            "proj:transform": list(transform)[:6],
            "proj:epsg": epsg,
        }
        if band != "SCL":
            eo = {"name": ASSET_KEYS[band][0]}
            if band in COMMON_NAMES and band not in ("B5",):
                eo["common_name"] = COMMON_NAMES[band]
            extra["eo:bands"] = [eo]
        item.add_asset(
            key,
            pystac.Asset(
                href=str(path), media_type=pystac.MediaType.COG, roles=["data"], extra_fields=extra
            ),
        )
    item.collection_id = collection
    return item


def _bbox(geometry: Mapping[str, Any]) -> tuple[float, ...]:
    from shapely.geometry import shape

    return tuple(float(v) for v in shape(geometry).bounds)


def dem_item(
    dem: np.ndarray,
    folder: Path,
    collection: str,
    item_id: str = "dem",
    origin: tuple[float, float] = ORIGIN,
    crs: str = CRS,
    resolution_m: int = 30,
) -> Any:
    """A DEM item (float32 COG at ``resolution_m``, block means of ``dem`` given at 10 m)."""
    import pystac
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)
    native = downsample(np.asarray(dem, np.float64), resolution_m // 10, categorical=False)
    transform = from_origin(origin[0], origin[1], resolution_m, resolution_m)
    _write_cog(folder / "data.tif", native.astype(np.float32), crs, transform, -32767.0)
    h, w = dem.shape
    bounds = (origin[0], origin[1] - 10 * h, origin[0] + 10 * w, origin[1])
    item = pystac.Item(
        id=item_id,
        geometry=_footprint(crs, bounds),
        bbox=None,
        datetime=datetime(2021, 4, 22, tzinfo=UTC),
        properties={},
    )
    item.bbox = list(_bbox(item.geometry or {}))
    raster = {"nodata": -32767.0, "data_type": "float32", "unit": "metre"}
    item.add_asset(
        "data",
        pystac.Asset(
            href=str(folder / "data.tif"),
            roles=["data"],
            media_type=pystac.MediaType.COG,
            extra_fields={"raster:bands": [raster]},
        ),
    )
    item.collection_id = collection
    return item


def write_catalog(
    root: str | Path,
    scenes: Sequence[SyntheticScene],
    dem: np.ndarray | None = None,
    *,
    collection: str = "sentinel-2-l2a",
    dem_collection: str = "cop-dem-glo-30",
    asset_style: str = "esa",
    raster_offset: bool = True,
    dem_origin: tuple[float, float] = ORIGIN,
    with_scl: bool = True,
    with_b10: bool = True,
) -> Path:
    """Write a static STAC catalogue of ``scenes`` (and ``dem``, 10 m grid at ``dem_origin``)
    under ``root``; return the path of its ``catalog.json``.

    ``asset_style``: ``esa`` (``B04``) or ``earthsearch`` (``red``) asset keys.
    ``raster_offset``: also state the offset in ``raster:bands`` (else only the baseline).
    ``with_scl``: write the L2A scene classification (without it: an L1C-like catalogue,
    masked by s2cloudless). ``with_b10``: write B10; real L2A products have none (False
    makes an L2A-like catalogue; the default keeps every band so that all14 models run on
    the test catalogues). Into an existing catalogue at ``root``, items are added.
    """
    import pystac

    root = Path(root).absolute()  # asset hrefs are made relative to it
    catalog = _open_or_new(root)
    s2 = _collection(catalog, collection, "synthetic Sentinel-2")
    for scene in scenes:
        folder = root / collection / scene.id
        s2.add_item(
            _item(scene, folder, collection, asset_style, raster_offset, with_scl, with_b10)
        )
    if dem is not None:
        dems = _collection(catalog, dem_collection, "synthetic elevation")
        folder = root / dem_collection / "dem"
        dems.add_item(dem_item(dem, folder, dem_collection, origin=dem_origin))
    catalog.normalize_hrefs(str(root))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"


def _open_or_new(root: Path) -> Any:
    import pystac

    if (root / "catalog.json").exists():
        catalog = pystac.Catalog.from_file(str(root / "catalog.json"))
        catalog.make_all_asset_hrefs_absolute()
        return catalog
    return pystac.Catalog(id="slidewatch-synthetic", description="synthetic Sentinel-2 + DEM")


def _collection(catalog: Any, name: str, description: str) -> Any:
    import pystac

    existing = catalog.get_child(name)
    if existing is not None:
        return existing
    collection = pystac.Collection(name, description, _extent())
    catalog.add_child(collection)
    return collection


def _extent() -> Any:
    import pystac

    return pystac.Extent(
        pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
        pystac.TemporalExtent([[datetime(2015, 6, 23, tzinfo=UTC), None]]),
    )


def item_dicts(catalog: Path) -> list[dict[str, Any]]:
    """Every item of a written catalogue as a dict with absolute asset hrefs (for STAC APIs)."""
    import pystac

    cat = pystac.Catalog.from_file(str(catalog))
    out = []
    for item in cat.get_items(recursive=True):
        item.make_asset_hrefs_absolute()
        out.append(json.loads(json.dumps(item.to_dict(transform_hrefs=False))))
    return out
