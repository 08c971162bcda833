"""Options shared by several commands, declared once so they mean the same everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from slidewatch.application.settings import HomeSettings

F = TypeVar("F", bound=Callable[..., Any])

band_order_option = click.option(
    "--band-order",
    default=None,
    metavar="B4,B3,B2,B8",
    help="The L4S band of each scene band, in file order, when the file's band "
    "descriptions do not say (B4 or B04; also red, green, blue, nir, swir1, swir2...). "
    "For tiles, name the bands of one tile.",
)

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def device_option(
    help: str = "Where the model runs (auto: a CUDA GPU when one is usable).",
    default: str = "auto",
) -> Callable[[F], F]:
    """``--device auto|cpu|cuda``: the one spelling on every command that computes."""
    return click.option(
        "--device",
        type=click.Choice(DEVICE_CHOICES),
        default=default,
        show_default=True,
        help=help,
    )


engine_option = click.option(
    "--engine",
    type=click.Choice(["auto", "onnx", "torch"]),
    default="auto",
    show_default=True,
    help="Inference engine; auto takes the one measured fastest for the model's "
    "architecture and device. onnx needs no torch once the model's graph exists.",
)

scale_option = click.option(
    "--scale",
    type=click.Choice(["auto", "l4s", "none"]),
    default="auto",
    show_default=True,
    help="l4s: divide raw values by the L4S vector; none: values are already L4S scale; "
    "auto: a SLIDEWATCH_SCALE tag if present, else l4s when the band medians look raw.",
)


def _asset_keys(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for text in values:
        band, sep, key = text.partition("=")
        if not sep or not band.strip() or not key.strip():
            raise click.BadParameter(
                f"{text!r} is not BAND=KEY (e.g. B4=red)", param_hint="--asset-key"
            )
        pairs.append((band.strip(), key.strip()))
    return tuple(pairs)


_SOURCE_OPTIONS = (
    click.option(
        "--source",
        "source_kind",
        type=click.Choice(["stac", "gee"]),
        default="stac",
        show_default=True,
        help="STAC catalogue (API or static) or Google Earth Engine.",
    ),
    click.option(
        "--stac-url",
        default=None,
        metavar="URL",
        help="STAC API root, or file:///…/catalog.json for a static catalogue "
        "[default: Earth Search, https://earth-search.aws.element84.com/v1].",
    ),
    click.option(
        "--collection",
        default=None,
        help="Sentinel-2 collection [default: sentinel-2-l2a; gee: COPERNICUS/S2_HARMONIZED].",
    ),
    click.option(
        "--dem-collection",
        default=None,
        help="Elevation collection [default: cop-dem-glo-30; gee: COPERNICUS/DEM/GLO30].",
    ),
    click.option(
        "--bands",
        default="auto",
        show_default=True,
        metavar="auto|all14|l2a|six10m|B4,B3,…",
        help="Band set or L4S band names to write (in L4S order). auto: all14 when the "
        "collection serves every band; from L2A (no B10) the other 13, said on stderr.",
    ),
    click.option(
        "--max-cloud",
        type=click.FloatRange(0, 100),
        default=30.0,
        show_default=True,
        help="Largest scene cloud cover searched for, in %.",
    ),
    click.option(
        "--composite",
        type=click.Choice(["best", "median"]),
        default="best",
        show_default=True,
        help="best: per pixel the clearest acquisition (ties: the latest); "
        "median: median of clear observations.",
    ),
    click.option(
        "--cloud-mask",
        type=click.Choice(["auto", "scl", "s2cloudless", "probability", "none"]),
        default="auto",
        show_default=True,
        help="auto: SCL when items have it, else s2cloudless; gee: cloud probability.",
    ),
    click.option(
        "--dn-offset",
        type=click.Choice(["auto", "0", "1000"]),
        default="auto",
        show_default=True,
        help="Baseline-04.00 offset to subtract; auto reads it from the metadata.",
    ),
    click.option(
        "--asset-key",
        "asset_key",
        multiple=True,
        metavar="BAND=KEY",
        help="Asset key of a band when the catalogue's table differs (repeatable).",
    ),
    click.option("--gee-project", default=None, help="Google Cloud project for Earth Engine."),
)
SOURCE_PARAMS = (
    "source_kind",
    "stac_url",
    "collection",
    "dem_collection",
    "bands",
    "max_cloud",
    "composite",
    "cloud_mask",
    "dn_offset",
    "asset_key",
    "gee_project",
)
"""Parameter names the :func:`source_options` decorator consumes."""


def source_config(**values: Any) -> Any:
    """The source options of the option values given (what is not given keeps the source
    kind's default), read by :meth:`~slidewatch.acquisition.options.SourceConfig.from_dict`."""
    from slidewatch.acquisition.options import SourceConfig

    names = {"source_kind": "kind", "asset_key": "asset_keys"}
    given = {names.get(k, k): v for k, v in values.items() if v is not None and v != ()}
    if "asset_keys" in given:
        given["asset_keys"] = _asset_keys(given["asset_keys"])
    return SourceConfig.from_dict(given)


def source_options(func: F) -> F:
    """Add the imagery-source options to a command; it receives them as one ``source``
    keyword argument (a ``SourceConfig``). ``fetch`` and ``monitor add`` share them."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in SOURCE_PARAMS}
        kwargs["source"] = source_config(**values)
        return func(*args, **kwargs)

    decorated: Any = wrapper
    for option in reversed(_SOURCE_OPTIONS):
        decorated = option(decorated)
    return decorated


def _parse_aoi(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from slidewatch.acquisition.aoi import parse_aoi
    from slidewatch.application.settings import Settings
    from slidewatch.errors import AOIError

    try:
        return parse_aoi(value, Settings.read().max_aoi_km2)
    except AOIError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def aoi_option(required: bool = True) -> Callable[[F], F]:
    """``--aoi``: a GeoJSON file or minx,miny,maxx,maxy in lon/lat, parsed into an AOI."""
    return click.option(
        "--aoi",
        required=required,
        callback=_parse_aoi,
        metavar="FILE|minx,miny,maxx,maxy",
        help="Area of interest: a GeoJSON polygon file, or a lon/lat bounding box "
        "(limit: SLIDEWATCH_MAX_AOI_KM2, default 10,000 km²).",
    )


def home_options(
    func: F | None = None,
    *,
    settings_class: type[HomeSettings] | None = None,
    also: tuple[str, ...] = (),
) -> Any:
    """``--home``, ``--db`` and ``--storage``, shared by every command of a home; the command
    receives them as one ``settings`` keyword argument (:class:`HomeSettings`, or
    ``settings_class``, which also reads ``SLIDEWATCH_*``: the flags win). ``also`` names the
    command's own flags that are settings too (``serve --scheduler``); given, they win."""
    if func is None:
        return functools.partial(home_options, settings_class=settings_class, also=also)
    options = [
        click.option("--home", type=click.Path(path_type=Path), default=None,
                     help="Folder of the registry and archive  [env SLIDEWATCH_HOME; "
                          "default: ./slidewatch-data]"),
        click.option("--db", default=None, metavar="URL",
                     help="Registry database, any SQLAlchemy URL (PostgreSQL for several "
                          "processes or machines)  [env SLIDEWATCH_DB_URL; default: "
                          "sqlite:///HOME/registry.db]"),
        click.option("--storage", default=None, metavar="URL",
                     help="Archive root: a folder or an fsspec URL (s3://, gs://)  "
                          "[env SLIDEWATCH_STORAGE; default: HOME/archive]"),
    ]  # fmt: skip

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {"home": kwargs.pop("home"), "db_url": kwargs.pop("db"),
                 "storage": kwargs.pop("storage")}  # fmt: skip
        given.update({name: kwargs.pop(name) for name in also})
        kwargs["settings"] = home_settings(settings_class, **given)
        return func(*args, **kwargs)

    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def home_settings(settings_class: type[HomeSettings] | None = None, **flags: Any) -> HomeSettings:
    """The home's settings (``settings_class``, default :class:`HomeSettings`): the flags
    given (not None) over ``SLIDEWATCH_*``."""
    from slidewatch.application.settings import HomeSettings

    return (settings_class or HomeSettings).read(**flags)
