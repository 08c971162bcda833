"""Which bands a collection serves, and the ``--bands auto`` rule built on it.

Sentinel-2 L2A products have no B10: the L2A processor uses the cirrus band for its
correction and drops it. Earth Search's and the Planetary Computer's ``sentinel-2-l2a``,
and Earth Engine's ``S2_SR_HARMONIZED``, therefore serve 13 of the 14 L4S bands, and a
public L1C collection of COGs without an account does not exist. ``auto`` writes every
L4S band the scenes hold: ``all14`` when they hold all, the 13 of the ``l2a`` band set
when only B10 is missing (said on stderr and recorded in the provenance); any other
missing band is the asset table's error naming the item and its asset keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slidewatch.acquisition.options import AUTO_BANDS
from slidewatch.bands import BAND_NAMES, BAND_SETS, resolve_bands
from slidewatch.errors import ConfigError

if TYPE_CHECKING:
    from slidewatch.acquisition.options import SourceConfig
    from slidewatch.acquisition.sources import SceneInfo

SPECTRAL: tuple[str, ...] = BAND_NAMES[:12]
"""The Sentinel-2 bands of the L4S stack (B1…B12 without B8A)."""
NO_L2A = "B10"
"""The band L2A products lack (cirrus, 1375 nm)."""
HOW_TO_GET_B10 = "for B10 fetch L1C: --source gee (COPERNICUS/S2_HARMONIZED) or an L1C --collection"


@dataclass(frozen=True)
class BandChoice:
    """The bands a fetch writes and, when ``auto`` left one out, why."""

    names: tuple[str, ...]
    """L4S names in L4S order."""
    note: str = ""
    """One line for the user and the provenance; empty when nothing was left out."""


def l2a_by_name(collection: str) -> bool | None:
    """Whether a collection's name says L2A (True), L1C (False), or nothing (None)."""
    name = collection.upper()
    if "L2A" in name or "S2_SR" in name:
        return True
    if "L1C" in name or name in ("COPERNICUS/S2", "COPERNICUS/S2_HARMONIZED"):
        return False
    return None


def b10_missing_message(collection: str, what: str) -> str:
    """The one explanation of a missing B10, for every place that meets it."""
    return (
        f"{what} needs B10 (cirrus), but collection {collection!r} serves none: Sentinel-2 "
        "L2A products have no B10 (the L2A processor drops the cirrus band). Use a model "
        f"trained on --bands l2a (the other 13), or {HOW_TO_GET_B10}"
    )


def _missing(scenes: Sequence[SceneInfo], collection: str) -> dict[str, set[str]]:
    """Scene id → spectral L4S bands it has no asset for (Earth Engine: by the name)."""
    out: dict[str, set[str]] = {}
    for scene in scenes:
        if scene.served is not None:
            lacking = set(SPECTRAL) - set(scene.served)
        else:
            lacking = {NO_L2A} if l2a_by_name(collection) else set()
        if lacking:
            out[scene.id] = lacking
    return out


def choose_bands(config: SourceConfig, scenes: Sequence[SceneInfo]) -> BandChoice:
    """The bands to write: ``config.bands`` as given, or the ``auto`` rule (module doc)."""
    if config.bands != AUTO_BANDS:
        return BandChoice(tuple(sorted(resolve_bands(config.bands), key=BAND_NAMES.index)))
    missing = _missing(scenes, config.collection)
    if not missing or any(bands - {NO_L2A} for bands in missing.values()):
        # Any other band missing: all14, so that loading raises the asset table's error
        # (it names the item, the band, the keys it has and a wrong --asset-key).
        return BandChoice(BAND_SETS["all14"])
    note = (
        f"bands auto: writing 13 bands (band set l2a), no B10: collection "
        f"{config.collection!r} has none (Sentinel-2 L2A drops the cirrus band); "
        f"{HOW_TO_GET_B10}"
    )
    return BandChoice(BAND_SETS["l2a"], note)


def catalogue_serves_b10(config: SourceConfig) -> bool | None:
    """Whether the collection serves B10, known without the network (the source's answer:
    a local catalogue's first item, else the collection's name); None when unknown."""
    from slidewatch.acquisition.sources import make_source

    return make_source(config).serves_b10()


def check_model_bands(config: SourceConfig, model_bands: Sequence[str], model: str) -> None:
    """Refuse now a model that needs B10 from a collection known to serve none."""
    if NO_L2A in model_bands and catalogue_serves_b10(config) is False:
        raise ConfigError(b10_missing_message(config.collection, f"the model {model}"))


def bands_for_model(config: SourceConfig, model_bands: Sequence[str], model: str) -> SourceConfig:
    """The source an AOI watched with ``model`` fetches from: ``auto`` bands become the
    model's own (nothing fetched that it does not read); a model that needs B10 from a
    collection known to serve none is refused now, not at the first run."""
    from dataclasses import replace

    if config.bands == AUTO_BANDS:
        config = replace(config, bands=",".join(model_bands))
    check_model_bands(config, model_bands, model)
    return config
