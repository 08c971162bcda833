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

from slidewatch.bands import BAND_NAMES, BAND_SETS, band_from_description, resolve_bands
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


_B10_HINT = (
    "B10 (cirrus) is what Sentinel-2 L2A products lack (the L2A processor drops it; "
    "`slidewatch fetch` from an L2A collection writes the other 13): use a model trained "
    "with --bands l2a, or fetch L1C (--source gee, or an L1C --collection)"
)


def _bands_option(bands: Sequence[str]) -> str:
    """``--bands rgbn`` when ``bands`` are a named set (in any order), else the names."""
    for name, members in BAND_SETS.items():
        if set(members) == set(bands) and len(members) == len(bands):
            return f"--bands {name}"
    return f"--bands {','.join(sorted(bands, key=BAND_NAMES.index))}"


def missing_bands_message(
    needed: Sequence[str],
    found: Sequence[SourceBand],
    groups: Sequence[Sequence[Path]],
    band_order_given: bool,
) -> str:
    """Why a scene cannot feed a model that needs ``needed``, and what to do.

    When every scene band is named (by ``--band-order`` or by descriptions) the bands are
    simply not there: a model trained on the scene's bands is needed, and ``--band-order``
    is not offered again. Only bands nothing names make ``--band-order`` the advice.
    """
    available = [f.name for f in found if f.name]
    missing = [b for b in needed if b not in available]
    what = (
        f"the model needs bands {', '.join(needed)} but {describe(groups)} holds "
        f"{', '.join(available) or 'no recognisable bands'} ("
        + ("named by --band-order; " if band_order_given else "")
        + f"missing: {', '.join(missing)})"
    )
    bad = unknown(found)
    if bad and not band_order_given:
        return (
            f"{what}; band descriptions {bad} name no band: name the scene's bands in file "
            "order with --band-order, e.g. B4,B3,B2,B8"
        )
    if missing == ["B10"]:
        return f"{what}; {_B10_HINT}; if the scene does hold B10, name its bands with --band-order"
    if not available:
        return f"{what}; name the scene's bands in file order with --band-order, e.g. B4,B3,B2,B8"
    advice = (
        f"the scene lacks them, so this model cannot run on it: use a model trained on the "
        f"scene's bands (slidewatch train ... {_bands_option(available)})"
    )
    if not band_order_given:
        advice += "; if the band descriptions are wrong, name the bands with --band-order"
    return f"{what}; {advice}"
