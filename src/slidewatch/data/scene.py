"""Georeferenced scenes for patch building: opening (one file or a mosaic), band naming,
raw-versus-L4S detection and padded windowed reads.

A scene is read window by window; a mosaic of several files is first merged with
:func:`rasterio.merge.merge` into one temporary GeoTIFF, so the rest of the code sees one
grid. Band names come from ``--band-order``, else from the file's band descriptions
("B4", "B04", "red", "nir", ...), else a 14-band file is taken to be in L4S order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
from rasterio.io import DatasetReader
from rasterio.windows import Window

from slidewatch.bands import BAND_NAMES, canonical_name, resolve_bands
from slidewatch.errors import BandError, RasterError

BAND_ALIASES: dict[str, str] = {
    "coastal": "B1", "aerosol": "B1", "coastal aerosol": "B1", "blue": "B2", "green": "B3",
    "red": "B4", "red edge 1": "B5", "rededge1": "B5", "re1": "B5", "red edge 2": "B6",
    "rededge2": "B6", "re2": "B6", "red edge 3": "B7", "rededge3": "B7", "re3": "B7",
    "nir": "B8", "near infrared": "B8", "near-infrared": "B8", "water vapour": "B9",
    "water vapor": "B9", "cirrus": "B10", "swir1": "B11", "swir 1": "B11", "swir16": "B11",
    "swir2": "B12", "swir 2": "B12", "swir22": "B12", "slope": "slope", "dem": "dem",
    "elevation": "dem", "height": "dem",
}  # fmt: skip
"""Band descriptions (lower case) recognised as L4S band names, besides ``B4``/``B04``."""

RAW_MEDIAN_THRESHOLD: dict[str, float] = {"slope": 4.5, "dem": 10.0}
"""A band median above this means raw values (90° slope is 4.43 and 7,700 m is 10 in L4S)."""
SENTINEL_RAW_MEDIAN = 50.0
"""Sentinel-2 bands are near 0.5-2 in L4S scale and hundreds to thousands as raw numbers."""


RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")
"""Files taken from a folder given as a scene or label raster."""


def expand_folders(paths: Sequence[Path], suffixes: Sequence[str] = RASTER_SUFFIXES) -> list[Path]:
    """Replace each folder in ``paths`` by its files with ``suffixes`` (sorted)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
            if not found:
                raise RasterError(f"folder {path} holds no {'/'.join(suffixes)} files; check it")
            out.extend(found)
        else:
            out.append(path)
    return out


@contextmanager
def open_scene(
    paths: Sequence[Path], workdir: Path, what: str = "scene"
) -> Iterator[DatasetReader]:
    """Open one raster, or merge several into ``workdir`` and open the mosaic."""
    if not paths:
        raise RasterError(f"no {what} file given; pass at least one GeoTIFF or VRT")
    for p in paths:
        check_crs(Path(p), what)
    if len(paths) == 1:
        with open_raster(Path(paths[0])) as ds:
            yield ds
        return
    mosaic = workdir / f".{what}-mosaic.tif"
    merge_rasters([Path(p) for p in paths], mosaic, what)
    with open_raster(mosaic) as ds:
        yield ds


def open_raster(path: Path) -> DatasetReader:
    """``rasterio.open`` with a RasterError that names the file."""
    if not Path(path).exists():
        raise RasterError(f"{path}: file not found; check the path")
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: not a readable raster ({exc}); give a GeoTIFF or VRT") from None


def check_crs(path: Path, what: str) -> None:
    """Raise RasterError when ``path`` has no CRS or no geotransform."""
    with open_raster(path) as ds:
        if ds.crs is None:
            raise RasterError(
                f"{what} {path} has no CRS; assign one first, e.g. "
                f"gdal_edit.py -a_srs EPSG:32718 {path}"
            )
        if ds.transform.is_identity:
            raise RasterError(f"{what} {path} has no geotransform; georeference it first")


def merge_rasters(paths: list[Path], out: Path, what: str) -> None:
    """Mosaic ``paths`` (same CRS and band count) into the GeoTIFF ``out``."""
    from rasterio.merge import merge

    with open_raster(paths[0]) as first:
        crs, count, descriptions = first.crs, first.count, first.descriptions
        nodata = first.nodata
    for p in paths[1:]:
        with open_raster(p) as ds:
            if ds.crs != crs or ds.count != count:
                raise RasterError(
                    f"{what} {p} has CRS {ds.crs} and {ds.count} bands but {paths[0]} has "
                    f"{crs} and {count}; mosaic only files of one CRS and band layout"
                )
    # Without a declared nodata, gaps between tiles are 0 like Sentinel-2's own no-data
    # pixels, and both are invalid (read_padded's zero_is_nodata); label gaps are background.
    merge(
        [str(p) for p in paths],
        nodata=nodata,
        dst_path=str(out),
        dst_kwds={"tiled": True, "blockxsize": 256, "blockysize": 256},
    )
    if any(descriptions):
        with rasterio.open(out, "r+") as ds:
            for i, d in enumerate(descriptions, start=1):
                ds.set_band_description(i, d or "")


def band_from_description(description: str) -> str | None:
    """The L4S band a description names ("B04", "red", "B8 (nir)"), or None."""
    text = description.strip().lower()
    if not text:
        return None
    match = re.match(r"^b0*(\d{1,2})\b", text)
    if match and not text.startswith(("b8a", "b08a")):
        name = f"B{int(match.group(1))}"
        return name if name in BAND_NAMES else None
    if text in BAND_ALIASES:
        return BAND_ALIASES[text]
    head = re.split(r"[(\[,;:]", text)[0].strip()
    return BAND_ALIASES.get(head)


def scene_bands(
    path: str | Path, count: int, descriptions: Sequence[str | None], band_order: str | None
) -> tuple[str, ...]:
    """Which L4S band each scene band is, from ``band_order``, descriptions or a 14-band file."""
    if band_order:
        names = resolve_bands(band_order)
        if len(names) != count:
            raise BandError(
                f"--band-order names {len(names)} bands ({', '.join(names)}) but scene {path} "
                f"has {count}; name every scene band once, in file order"
            )
        return names
    if any(descriptions):
        found = [band_from_description(d or "") for d in descriptions]
        if all(found) and len(set(found)) == count:
            return tuple(canonical_name(str(f)) for f in found)
        bad = [d for d, f in zip(descriptions, found, strict=True) if not f]
        raise BandError(
            f"scene {path}: band descriptions {list(descriptions)} do not name distinct L4S "
            f"bands (not recognised: {bad}); give --band-order, e.g. B4,B3,B2,B8"
        )
    if count == len(BAND_NAMES):
        return BAND_NAMES
    raise BandError(
        f"scene {path} has {count} bands and no band descriptions; say which L4S band each "
        "is with --band-order, e.g. B4,B3,B2,B8"
    )


def looks_raw(medians: dict[str, float]) -> bool:
    """Whether per-band medians look like raw values rather than the L4S scale."""
    sentinel = {b: m for b, m in medians.items() if b not in RAW_MEDIAN_THRESHOLD}
    if sentinel:
        return max(sentinel.values()) > SENTINEL_RAW_MEDIAN
    return any(m > RAW_MEDIAN_THRESHOLD[b] for b, m in medians.items())


def band_medians(ds: DatasetReader, bands: Sequence[str], max_side: int = 512) -> dict[str, float]:
    """Per-band medians of valid pixels, read on a decimated grid (overviews when present)."""
    step = max(1, int(np.ceil(max(ds.height, ds.width) / max_side)))
    shape = (ds.count, max(1, ds.height // step), max(1, ds.width // step))
    block = ds.read(out_shape=shape, masked=True)
    values, valid = _valid_pixels(block, zero_is_nodata=ds.nodata is None)
    if not valid.any():
        return dict.fromkeys(bands, 0.0)
    return {name: float(np.median(band[valid])) for name, band in zip(bands, values, strict=True)}


def _valid_pixels(block: np.ma.MaskedArray, zero_is_nodata: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(values C×H×W float64, valid H×W)``: valid = unmasked and finite in every band, and
    (with ``zero_is_nodata``) not 0 in every band."""
    values = np.ma.getdata(block).astype("float64")
    valid = ~np.ma.getmaskarray(block).any(axis=0) & np.isfinite(values).all(axis=0)
    if zero_is_nodata:
        valid &= (values != 0).any(axis=0)
    return values, valid


def read_padded(
    ds: DatasetReader,
    row: int,
    col: int,
    size: int,
    indexes: Sequence[int] | None = None,
    zero_is_nodata: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``size``×``size`` window that may pass the scene's edge.

    Returns ``(data C×size×size float64, valid size×size bool)``: pixels outside the scene,
    equal to the band's nodata, masked, or not finite in any band are invalid and set to 0;
    with ``zero_is_nodata`` also pixels that are 0 in every band (Sentinel-2's no-data
    value, used by exporters that declare no nodata).
    """
    idx = list(indexes) if indexes is not None else list(range(1, ds.count + 1))
    data = np.zeros((len(idx), size, size), dtype="float64")
    valid = np.zeros((size, size), dtype=bool)
    r0, c0 = max(row, 0), max(col, 0)
    r1, c1 = min(row + size, ds.height), min(col + size, ds.width)
    if r1 <= r0 or c1 <= c0:
        return data, valid
    window = Window(c0, r0, c1 - c0, r1 - r0)
    values, inside = _valid_pixels(ds.read(idx, window=window, masked=True), zero_is_nodata)
    values[:, ~inside] = 0.0
    data[:, r0 - row : r1 - row, c0 - col : c1 - col] = values
    valid[r0 - row : r1 - row, c0 - col : c1 - col] = inside
    return data, valid
