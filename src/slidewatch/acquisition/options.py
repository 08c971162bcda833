"""Where and how imagery is fetched: one frozen value per source, and its JSON form.

A source's options are the options every source shares (:class:`SourceConfig`: the bands,
the cloud limit, the composite, the cloud mask, the offset, the collections) plus its own,
in its subclass — :class:`StacConfig` (a STAC API or a static catalogue) and
:class:`EarthEngineConfig` — registered by kind in :data:`SOURCE_KINDS`. The values are
hashable, so a caller may keep what it opened per value (:func:`~.sources.kept_source`),
and pass them down as they are. Their JSON form (registry rows, ``SLIDEWATCH_SOURCES``) is
flat: ``kind`` and the fields; :meth:`SourceConfig.from_dict` is the one way back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from slidewatch.errors import ConfigError

DEFAULT_STAC_URL = "https://earth-search.aws.element84.com/v1"
"""Element 84's Earth Search: public Sentinel-2 L2A COGs and the Copernicus DEM, no account."""
DEFAULT_COLLECTION = "sentinel-2-l2a"
DEFAULT_DEM_COLLECTION = "cop-dem-glo-30"
COMPOSITES = ("best", "median")
CLOUD_MASKS = ("auto", "scl", "s2cloudless", "probability", "none")
DN_OFFSETS = ("auto", "0", "1000")
AUTO_BANDS = "auto"
"""``bands`` value: every L4S band the collection serves (all14, or ``l2a`` without B10)."""
RETIRED_OPTIONS = ("extra",)
"""Keys older versions wrote (always empty); read and dropped."""


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """The options every imagery source shares; a source's own are in its subclass."""

    kind: ClassVar[str] = ""
    """The source kind (``stac``, ``gee``): the key of :data:`SOURCE_KINDS`."""
    opener: ClassVar[str] = ""
    """``module:function`` that makes the source (imported only when one is made)."""

    collection: str = ""
    """Sentinel-2 collection (STAC id, or an Earth Engine ImageCollection id)."""
    dem_collection: str = ""
    """Elevation collection (STAC id, or an Earth Engine image/collection id)."""
    max_cloud: float = 30.0
    """Largest scene cloud cover (%) searched for."""
    bands: str = AUTO_BANDS
    """Band set or comma-separated L4S band names to write; ``auto``: all14 when the
    collection serves every band, the 13 of ``l2a`` when it has no B10 (L2A), see
    :mod:`.served`."""
    composite: str = "best"
    """``best`` (clearest acquisition per pixel, ties: the latest) or ``median``."""
    asset_keys: tuple[tuple[str, str], ...] = ()
    """Where the catalogue keeps a band, overriding the source's own table: (band name, key)
    pairs, e.g. (("B4", "red"),) — a STAC asset key, an Earth Engine band name."""
    cloud_mask: str = "auto"
    """``auto`` (the source's rule: SCL when STAC items have it, else s2cloudless; Earth
    Engine's probability), ``scl``, ``s2cloudless``, ``probability`` or ``none``."""
    dn_offset: str = "auto"
    """``auto`` (from the metadata, see :mod:`.offset`), or ``0``/``1000`` forced."""

    def __post_init__(self) -> None:
        if not self.kind:
            raise TypeError(
                "SourceConfig holds the options every source shares; make a StacConfig or an "
                "EarthEngineConfig, or read one with SourceConfig.from_dict"
            )
        _choice("composite", self.composite, COMPOSITES)
        _choice("cloud mask", self.cloud_mask, CLOUD_MASKS)
        _choice("DN offset", self.dn_offset, DN_OFFSETS)
        if not 0 <= self.max_cloud <= 100:
            raise ConfigError(f"max_cloud={self.max_cloud} is not a percentage; give 0-100")
        from slidewatch.bands import resolve_bands

        if self.bands != AUTO_BANDS:
            resolve_bands(self.bands)

    @property
    def asset_key_overrides(self) -> dict[str, str]:
        """The overrides as a dict (band name → asset key or band name)."""
        return dict(self.asset_keys)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``kind`` and every field (for databases, settings, provenance)."""
        data: dict[str, Any] = {"kind": self.kind}
        data |= {f.name: getattr(self, f.name) for f in fields(self)}
        data["asset_keys"] = dict(self.asset_keys)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceConfig:
        """The options of ``data``'s ``kind`` (default ``stac``) from their JSON form.

        Unknown keys are an error naming the valid ones; another kind's option is an error
        unless it holds that option's default (older versions wrote every option)."""
        kind = str(data.get("kind", StacConfig.kind))
        kinds = ", ".join(SOURCE_KINDS)
        if kind not in SOURCE_KINDS:
            raise ConfigError(f"unknown source kind {kind!r}; valid: {kinds}")
        target = SOURCE_KINDS[kind]
        own = {f.name for f in fields(target)}
        others = {
            f.name: (other.kind, f.default)
            for other in SOURCE_KINDS.values()
            for f in fields(other)
        }
        unknown = set(data) - own - set(others) - {"kind", *RETIRED_OPTIONS}
        if unknown:
            hint = f" (a source's kind is named by 'kind': {kinds})" if "source" in unknown else ""
            raise ConfigError(
                f"unknown source option(s) {', '.join(sorted(unknown))}{hint}; "
                f"valid: {', '.join(sorted({'kind', *own}))}"
            )
        for key in sorted(set(data) - own - {"kind"}):
            if key in RETIRED_OPTIONS:
                if data[key]:
                    raise ConfigError(f"source option {key} is no longer read; remove it")
                continue
            owner, default = others[key]
            if data[key] != default:
                raise ConfigError(
                    f"source option {key} belongs to source kind {owner!r}, not {kind!r}; remove it"
                )
        values = {key: value for key, value in data.items() if key in own}
        if "asset_keys" in values:
            values["asset_keys"] = _pairs(values["asset_keys"])
        return target(**values)


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    return tuple((str(k), str(v)) for k, v in value)


def _choice(what: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ConfigError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


@dataclass(frozen=True, kw_only=True)
class StacConfig(SourceConfig):
    """A STAC API, or a static catalogue (``catalog.json``); Earth Search by default."""

    kind: ClassVar[str] = "stac"
    opener: ClassVar[str] = "slidewatch.acquisition.stac.source:open_stac_source"

    stac_url: str = DEFAULT_STAC_URL
    """STAC API root, or ``file:///…/catalog.json`` / a path of a static catalogue."""
    collection: str = DEFAULT_COLLECTION
    dem_collection: str = DEFAULT_DEM_COLLECTION
    timeout_s: float = 30.0
    """Timeout of one STAC API request."""
    retries: int = 4
    """Retries (with exponential backoff) of a STAC API request answering 5xx or timing out."""


@dataclass(frozen=True, kw_only=True)
class EarthEngineConfig(SourceConfig):
    """Google Earth Engine, with the user's own credentials."""

    kind: ClassVar[str] = "gee"
    opener: ClassVar[str] = "slidewatch.acquisition.earthengine.source:EarthEngineSource"

    collection: str = "COPERNICUS/S2_HARMONIZED"
    dem_collection: str = "COPERNICUS/DEM/GLO30"
    gee_project: str | None = None
    """Google Cloud project (credentials from ``earthengine authenticate``)."""


SOURCE_KINDS: dict[str, type[SourceConfig]] = {
    StacConfig.kind: StacConfig,
    EarthEngineConfig.kind: EarthEngineConfig,
}
"""The registry of source kinds: kind → its options class (which names its source)."""
