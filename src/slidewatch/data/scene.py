"""Georeferenced scenes for patch building: opening (one file or a mosaic), band naming,
band medians for raw-versus-L4S detection, the pixel validity rule and padded windowed reads.

A scene is read window by window; a mosaic of several files is first merged with
:func:`rasterio.merge.merge` into one temporary GeoTIFF, so the rest of the code sees one
grid. Band names come from ``--band-order``, else from the file's band descriptions
(:func:`slidewatch.bands.band_from_description`: "B4", "B04", "red", "nir", ...), else a
14-band file is taken to be in L4S order. Detection (:mod:`slidewatch.inference.scene`)
opens rasters and judges pixel validity with the functions here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
from rasterio.io import DatasetReader
from rasterio.windows import Window

from slidewatch.bands import BAND_NAMES, band_from_description, canonical_name, resolve_bands
from slidewatch.errors import BandError, RasterError

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
    except rasterio.errors.RasterioError as exc:
        raise RasterError(
            f"{path}: cannot read this file: not a readable raster ({exc}); "
            "give a GeoTIFF or VRT that GDAL can open"
        ) from None


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


def band_medians(ds: DatasetReader, bands: Sequence[str], max_side: int = 512) -> dict[str, float]:
    """Per-band medians of valid pixels, read on a decimated grid (overviews when present)."""
    step = max(1, int(np.ceil(max(ds.height, ds.width) / max_side)))
    shape = (ds.count, max(1, ds.height // step), max(1, ds.width // step))
    block = ds.read(out_shape=shape, masked=True)
    values, valid = _valid_pixels(block, zeros_are_nodata([ds]))
    if not valid.any():
        return dict.fromkeys(bands, 0.0)
    return {name: float(np.median(band[valid])) for name, band in zip(bands, values, strict=True)}


def _valid_pixels(block: np.ma.MaskedArray, zero_is_nodata: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(values C×H×W float64, valid H×W)`` of a masked read (see :func:`valid_pixels`)."""
    values = np.ma.getdata(block).astype("float64")
    unmasked = ~np.asarray(np.ma.getmaskarray(block).any(axis=0))
    return values, valid_pixels(values, unmasked, zero_is_nodata)


def valid_pixels(values: np.ndarray, unmasked: np.ndarray, zero_is_nodata: bool) -> np.ndarray:
    """The H×W valid pixels of C×H×W scene ``values``: the rule for patches and detection.

    A pixel is invalid when any band is masked (``unmasked`` is False: the band's nodata
    value, an internal or alpha mask), when any band is not finite, and, with
    ``zero_is_nodata`` (the scene declares no nodata, see :func:`zeros_are_nodata`), when it
    is exactly 0 in every band: Sentinel-2's fill value, which exporters often leave
    undeclared. Band by band, so no C×H×W temporary is made.
    """
    valid = unmasked.copy()
    nonzero = np.zeros_like(valid)
    for band in values:
        valid &= np.isfinite(band)
        if zero_is_nodata:
            nonzero |= band != 0
    return valid & nonzero if zero_is_nodata else valid


def zeros_are_nodata(datasets: Sequence[DatasetReader]) -> bool:
    """Whether pixels that are 0 in every band count as nodata: when no file declares one."""
    return all(ds.nodata is None for ds in datasets)


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
