"""Which files make one band source, and which L4S band each band of a scene is.

Files are grouped first: files with the same band layout (band count and descriptions, and
for single-band files the band their name gives) but different footprints are tiles of one
mosaic; every other file is a band source of its own (band files at mixed resolutions, or
several single-band files of one area). Then each band of each source is named: by
``--band-order`` (every band, in file order), else by the band descriptions
(:func:`slidewatch.bands.band_from_description`), else, for a single-band file, by its
name (``T45QYF_B04_10m.jp2``), else a 14-band source without descriptions is taken to be
in L4S order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slidewatch.bands import BAND_NAMES, band_from_description, resolve_bands
from slidewatch.errors import BandError
from slidewatch.scene.files import check_crs, open_raster


@dataclass(frozen=True)
class SourceBand:
    """One band of a scene's sources."""

    name: str | None
    """The L4S band, or None when nothing names it."""
    source: int
    """Index of the source (a file or a mosaic of tiles)."""
    band: int
    """1-based band index within the source."""
    label: str
    """What named it, for messages: the description or the file name."""


def group_files(files: Sequence[Path], what: str = "scene") -> tuple[tuple[Path, ...], ...]:
    """Group ``files`` into sources: tiles of one layout are mosaicked (module docstring)."""
    layouts: dict[tuple[object, ...], list[tuple[Path, tuple[float, ...]]]] = {}
    for path in files:
        check_crs(path, what)
        with open_raster(path, what) as ds:
            stem = band_from_description(path.stem) if ds.count == 1 else None
            key = (ds.count, tuple(ds.descriptions), stem)
            pixel = abs(ds.transform.a)
            footprint = tuple(round(v / pixel, 2) for v in ds.bounds)
        layouts.setdefault(key, []).append((Path(path), footprint))
    groups: list[tuple[Path, ...]] = []
    for members in layouts.values():
        if len(members) > 1 and len({f for _, f in members}) == len(members):
            groups.append(tuple(p for p, _ in members))
        else:
            groups.extend((p,) for p, _ in members)
    order = {Path(p): i for i, p in enumerate(files)}
    return tuple(sorted(groups, key=lambda g: order[g[0]]))


def describe(groups: Sequence[Sequence[Path]]) -> str:
    """The scene's files for messages (a mosaic as its first file and a count)."""
    parts = [str(g[0]) if len(g) == 1 else f"{g[0]} (+{len(g) - 1} tiles)" for g in groups]
    return ", ".join(parts)


def source_bands(
    groups: Sequence[Sequence[Path]], band_order: str | Sequence[str] | None
) -> list[SourceBand]:
    """Every band of every source with its L4S name (module docstring for the rules)."""
    found: list[SourceBand] = []
    for index, paths in enumerate(groups):
        with open_raster(paths[0]) as ds:
            count, descriptions = ds.count, ds.descriptions
        for band, desc in enumerate(descriptions, start=1):
            name, label = band_from_description(desc), desc or ""
            if name is None and count == 1 and not desc:
                name, label = band_from_description(Path(paths[0]).stem), Path(paths[0]).name
            found.append(SourceBand(name, index, band, label))
    if band_order:
        names = resolve_bands(band_order)
        if len(names) != len(found):
            raise BandError(
                f"--band-order names {len(names)} bands ({', '.join(names)}) but scene "
                f"{describe(groups)} has {len(found)}; name every scene band once, in file order"
            )
        return [SourceBand(n, f.source, f.band, n) for n, f in zip(names, found, strict=True)]
    if len(found) == len(BAND_NAMES) and not any(f.name or f.label for f in found):
        return [SourceBand(n, f.source, f.band, "") for n, f in zip(BAND_NAMES, found, strict=True)]
    return found


def all_named(found: Sequence[SourceBand], groups: Sequence[Sequence[Path]]) -> None:
    """Raise BandError unless every band has a name of its own (patch building's rule)."""
    names = [f.name for f in found]
    if all(names) and len(set(names)) == len(names):
        return
    where = describe(groups)
    if not any(f.label for f in found):
        raise BandError(
            f"scene {where} has {len(found)} bands and no band descriptions; say which L4S "
            "band each is with --band-order, e.g. B4,B3,B2,B8"
        )
    raise BandError(
        f"scene {where}: band descriptions {[f.label for f in found]} do not name distinct "
        f"L4S bands (unknown: {unknown(found)}); give --band-order, e.g. B4,B3,B2,B8"
    )


def unknown(found: Sequence[SourceBand]) -> list[str]:
    """The labels of bands nothing names (descriptions such as 'scene_sub12')."""
    return [f.label for f in found if f.name is None and f.label]
