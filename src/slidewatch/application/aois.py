"""Registering an AOI, as ``monitor add`` and ``POST /aois`` both do: the model must be
readable now (not at the first run), the source fetches the model's own bands (and a model
that needs B10 from a collection without it is refused now), the model's hash is recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch.monitoring.confidence import AlertFilters
from slidewatch.monitoring.kinds import AlertOn, Grouping
from slidewatch.monitoring.registry.aois import AoiSettings

if TYPE_CHECKING:  # imported when used: the CLI reads the defaults at start
    from slidewatch.acquisition.options import SourceConfig
    from slidewatch.monitoring.alerts.targets import TargetRules
    from slidewatch.monitoring.imagery import RegisteredModel
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Aoi

AOI_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(AoiSettings)
                                if f.default is not MISSING}  # fmt: skip
"""The defaults of an AOI's options (cadence, look-back, thresholds), one place for every edge."""


@dataclass(frozen=True)
class AoiRegistration:
    """What a new AOI needs: where, with which model, from which source, how often."""

    name: str
    geometry: Mapping[str, Any]
    """GeoJSON (Multi)Polygon in lon/lat."""
    model: RegisteredModel
    model_label: str
    """How messages name the model (the CLI's path, the API's model name: never a server
    path to a client)."""
    source: SourceConfig
    """The imagery source (its ``auto`` bands become the model's)."""
    cadence_days: float = AOI_DEFAULTS["cadence_days"]
    lookback_days: float = AOI_DEFAULTS["lookback_days"]
    min_new_area_m2: float = AOI_DEFAULTS["min_new_area_m2"]
    max_cloud_pct: float = AOI_DEFAULTS["max_cloud_pct"]
    webhooks: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    active: bool = True
    alert_on: AlertOn = AlertOn.POSSIBLE
    """The least confidence an alert needs to be sent."""
    alert_grouping: Grouping = Grouping.AUTO
    alert_filters: AlertFilters = field(default_factory=AlertFilters)
    """Filters on slope, vegetation change, elevation (off by default)."""
    webhook_secret: str | None = None
    """Standard Webhooks signing secret (``whsec_…``); None: unsigned."""


def register_aoi(registry: Registry, request: AoiRegistration, targets: TargetRules) -> Aoi:
    """Check and store a new AOI; ConfigError/ModelError naming the field and the fix.
    ``targets``: the home's webhook rules (no target inside the server's network)."""
    from slidewatch.acquisition.served import bands_for_model
    from slidewatch.models.modelfile import check_weights, read_spec

    targets.check_all(request.webhooks, request.emails)
    spec = read_spec(Path(request.model.path))  # a readable model, or a clear error now
    check_weights(Path(request.model.path))  # a truncated copy is refused now, not at a run
    # Without --bands (auto), the model's own bands; B10 from an L2A collection refused now.
    source = bands_for_model(request.source, spec.bands, request.model_label)
    return registry.add_aoi(
        AoiSettings(
            name=request.name, geometry=dict(request.geometry), model_path=request.model.path,
            model_hash=request.model.hash, source=source.to_dict(),
            cadence_days=request.cadence_days, lookback_days=request.lookback_days,
            min_new_area_m2=request.min_new_area_m2, max_cloud_pct=request.max_cloud_pct,
            webhooks=tuple(request.webhooks), emails=tuple(request.emails),
            active=request.active, alert_on=request.alert_on,
            alert_grouping=request.alert_grouping, alert_filters=request.alert_filters,
            webhook_secret=request.webhook_secret,
        )
    )  # fmt: skip
