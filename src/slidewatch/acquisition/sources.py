"""Where imagery comes from: one configuration value, one protocol, one registry.

A source searches a catalogue for Sentinel-2 scenes over an AOI and dates
(:meth:`ImagerySource.search`) and loads the bands of the scenes of one acquisition, and the
elevation, as lazy (dask) arrays on a grid (:meth:`ImagerySource.load`,
:meth:`ImagerySource.load_dem`). Everything after that — the offset, the L4S scale, clouds,
composites, slope, writing — is the same for every source (:mod:`.stack`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slidewatch.errors import ConfigError, unknown_name

if TYPE_CHECKING:
    import dask.array as da
    from odc.geo.geobox import GeoBox

    from slidewatch.acquisition.aoi import AOI

DEFAULT_STAC_URL = "https://earth-search.aws.element84.com/v1"
"""Element 84's Earth Search: public Sentinel-2 L2A COGs and the Copernicus DEM, no account."""
DEFAULT_COLLECTION = "sentinel-2-l2a"
DEFAULT_DEM_COLLECTION = "cop-dem-glo-30"
SOURCE_KINDS = ("stac", "gee")
COMPOSITES = ("best", "median")
CLOUD_MASKS = ("auto", "scl", "s2cloudless", "probability", "none")
DN_OFFSETS = ("auto", "0", "1000")
AUTO_BANDS = "auto"
"""``bands`` value: every L4S band the collection serves (all14, or ``l2a`` without B10)."""


@dataclass(frozen=True)
class SourceConfig:
    """Everything that says where and how imagery is fetched (JSON round trip: to/from_dict)."""

    kind: str = "stac"
    """``stac`` (a STAC API, or a static catalogue with a ``catalog.json`` URL) or ``gee``."""
    stac_url: str = DEFAULT_STAC_URL
    """STAC API root, or ``file:///…/catalog.json`` / a path of a static catalogue."""
    collection: str = DEFAULT_COLLECTION
    """Sentinel-2 collection (STAC id, or an Earth Engine ImageCollection id)."""
    dem_collection: str = DEFAULT_DEM_COLLECTION
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
    """Overrides of the asset-key table: (band name, asset key) pairs, e.g. (("B4", "red"),)."""
    cloud_mask: str = "auto"
    """``auto`` (SCL when the items have it, else s2cloudless; probability on Earth Engine),
    ``scl``, ``s2cloudless``, ``probability`` (Earth Engine) or ``none``."""
    dn_offset: str = "auto"
    """``auto`` (from the metadata, see :mod:`.offset`), or ``0``/``1000`` forced."""
    gee_project: str | None = None
    """Google Cloud project for Earth Engine (credentials from ``earthengine authenticate``)."""
    timeout_s: float = 30.0
    """Timeout of one catalogue request."""
    retries: int = 4
    """Retries (with exponential backoff) of a catalogue request answering 5xx or timing out."""
    extra: tuple[tuple[str, str], ...] = field(default=())
    """Free-form options a source may read (kept so configurations stay JSON-serialisable)."""

    def __post_init__(self) -> None:
        _choice("source kind", self.kind, SOURCE_KINDS)
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
        """The overrides as a dict (band name → asset key)."""
        return dict(self.asset_keys)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable mapping (for databases and provenance)."""
        data = asdict(self)
        data["asset_keys"] = dict(self.asset_keys)
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming the valid ones."""
        valid = set(cls.__dataclass_fields__)
        unknown = set(data) - valid
        if unknown:
            raise ConfigError(
                f"unknown source option(s) {', '.join(sorted(unknown))}; "
                f"valid: {', '.join(sorted(valid))}"
            )
        values = dict(data)
        for key in ("asset_keys", "extra"):
            if isinstance(values.get(key), Mapping):
                values[key] = tuple(sorted(values[key].items()))
            elif key in values:
                values[key] = tuple(tuple(p) for p in values[key])
        return cls(**values)


def _choice(what: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ConfigError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


@dataclass(frozen=True)
class SceneInfo:
    """One Sentinel-2 scene (a STAC item or an Earth Engine image) as found by a search."""

    id: str
    """Item / image id."""
    datetime: datetime
    """Acquisition time (UTC)."""
    tile: str
    """MGRS tile (e.g. ``18LTP``) or another footprint key; ``""`` when unknown."""
    processing_baseline: str
    """``"05.09"``-style baseline; ``""`` when the catalogue does not say."""
    cloud_cover: float | None
    """Scene cloud cover in %, as the catalogue states it."""
    dn_offset: float
    """Digital-number offset to subtract (1000 from baseline 04.00 unless harmonized)."""
    offset_rule: str
    """Why :attr:`dn_offset` is what it is (recorded in the provenance)."""
    processed: str = ""
    """When the scene was (re)processed (ISO time, or a sortable version); orders duplicates."""
    asset_keys: tuple[str, ...] = ()
    """The asset keys of the item (for error messages and the asset table)."""
    pass_id: str = ""
    """The satellite pass: platform and relative orbit (``sentinel-2a/R010``) when the
    catalogue says; ``""`` when it does not (scenes are then grouped by UTC day alone)."""
    served: tuple[str, ...] | None = None
    """The Sentinel-2 bands (B1…B12, B8A) the scene has assets for; None when the source
    cannot tell per scene (Earth Engine: decided by the collection, see :mod:`.served`)."""
    handle: Any = field(default=None, compare=False, hash=False, repr=False)
    """The source's own object (a :class:`pystac.Item`, an Earth Engine image id)."""

    @property
    def date(self) -> str:
        """UTC date ``YYYY-MM-DD``."""
        return self.datetime.strftime("%Y-%m-%d")


def pass_id(platform: Any, relative_orbit: Any) -> str:
    """``platform/Rnnn`` of a scene, or ``""`` unless the catalogue gives both."""
    if not platform or relative_orbit in (None, ""):
        return ""
    return f"{str(platform).lower()}/R{int(relative_orbit):03d}"


@dataclass(frozen=True)
class Channel:
    """One loaded band of an acquisition: raw digital numbers (float32, NaN = no data).

    ``factor`` 1: on the stack grid, chunked like it. Otherwise on a grid ``factor`` (k)
    times coarser (a 20 m or 60 m band on its own pixels, see :mod:`.native`) whose pixel
    (i, j) covers stack pixels [i·k − dy, i·k − dy + k) × [j·k − dx, …): with ``shift``
    None, (dy, dx) = (0, 0) and chunk (i, j) covers the stack's chunk (i, j); with a
    ``shift`` (dy, dx), the data is one chunk covering the whole grid."""

    data: da.Array
    factor: int = 1
    shift: tuple[int, int] | None = None


class ImagerySource(Protocol):
    """What every imagery source does (see the module docstring)."""

    config: SourceConfig

    def search(self, aoi: AOI, start: datetime, end: datetime, max_cloud: float) -> list[SceneInfo]:
        """Scenes over ``aoi`` from ``start`` to ``end`` (inclusive) at most ``max_cloud`` %."""
        ...

    def load(
        self, scenes: Sequence[SceneInfo], bands: Sequence[str], geobox: GeoBox, chunk_px: int
    ) -> dict[str, Channel]:
        """The :class:`Channel` of each of ``bands`` — L4S names plus ``B8A``, ``SCL``,
        ``CLOUDPROB`` — of one acquisition's scenes mosaicked on ``geobox``, in chunks of
        ``chunk_px`` stack pixels."""
        ...

    def load_dem(self, aoi: AOI, geobox: GeoBox, chunk_px: int) -> tuple[da.Array, str]:
        """Elevation in metres (float32, NaN = no data) on ``geobox`` and a description of its
        source (collection and item ids)."""
        ...


SourceFactory = Callable[[SourceConfig], ImagerySource]
_REGISTRY: dict[str, str] = {
    "stac": "slidewatch.acquisition.stac.source:make_stac_source",
    "gee": "slidewatch.acquisition.earthengine:EarthEngineSource",
}


def make_source(config: SourceConfig) -> ImagerySource:
    """The source for ``config.kind`` (imported lazily: Earth Engine only when asked)."""
    import importlib

    if config.kind not in _REGISTRY:
        raise unknown_name("imagery source", config.kind, sorted(_REGISTRY))
    module, attr = _REGISTRY[config.kind].split(":")
    factory: SourceFactory = getattr(importlib.import_module(module), attr)
    return factory(config)
