"""What a look and each of its runs carry, as frozen values: where the monitor keeps its
state, the AOI, the time the look is made for, and — for a run — the acquisition, the run's
row and its clock. Every stage of a run takes one :class:`RunContext`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from slidewatch.monitoring.alerts.channels import SmtpSettings
from slidewatch.monitoring.alerts.outbox import RetryPolicy
from slidewatch.monitoring.alerts.targets import TargetRules
from slidewatch.monitoring.imagery import Acquire, Found, RegisteredModel, Target
from slidewatch.monitoring.kinds import RunState
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.records import WatchedAoi


@dataclass(frozen=True)
class MonitorConfig:
    """Where a monitor keeps its state (``--db``, ``--storage``, ``--home``) and how it alerts."""

    db_url: str
    storage: str
    work_dir: str
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    public_url: str = ""
    """The base URL under which ``serve`` is reached: alert links are absolute under it
    (``SLIDEWATCH_PUBLIC_URL``); empty: relative paths."""
    targets: TargetRules = field(default_factory=TargetRules)
    """Which webhook targets delivery may reach (checked again after DNS resolution)."""
    engine_table: str | None = None
    """The engine measurements the edge installed (``SLIDEWATCH_ENGINE_TABLE``), installed
    again on Dask workers, which are other processes."""


@dataclass(frozen=True)
class Outcome:
    """What one run of a look ended as (printed by ``run-once``)."""

    aoi: str
    state: RunState | str
    """``done``, ``skipped``, ``failed``, or ``busy`` (another process has it)."""
    run_id: int | None = None
    acquisition_date: str | None = None
    reason: str | None = None
    alerts: int = 0
    landslides: int = 0


BUSY = "busy"
"""An :class:`Outcome`'s state when another process is looking at the AOI or the run."""


@dataclass(frozen=True)
class LookContext:
    """One look at one AOI: the open registry, the monitor's config, the AOI and the time
    the look is made for (``run-once --now``)."""

    registry: Registry
    config: MonitorConfig
    aoi: WatchedAoi
    now: datetime

    def target(self) -> Target:
        """What the look searches: the AOI and its source, parsed from the registry's row
        (once per look; each run's acquisition carries it on)."""
        return Target.parse(self.aoi.source, self.aoi.geometry)

    @property
    def acquire(self) -> Acquire:
        """How a run acquires and detects: the AOI's registered model, its cloud limit."""
        model = RegisteredModel(self.aoi.model_path, self.aoi.model_hash)
        return Acquire(model, self.aoi.max_cloud_pct, f"AOI {self.aoi.name!r}")

    def for_run(self, found: Found, run_id: int, started: float, search_s: float) -> RunContext:
        """The context of run ``run_id`` (claimed by this process) of acquisition ``found``."""
        return RunContext(self.registry, self.config, self.aoi, self.now, found, run_id,
                          started, search_s)  # fmt: skip


@dataclass(frozen=True)
class RunContext(LookContext):
    """One run of a look: the acquisition, the run's row and its clock."""

    found: Found
    run_id: int
    started: float
    """``time.perf_counter()`` when the run began, less its share of the search, so that
    ``overhead_s`` is everything outside fetch and detect."""
    search_s: float
    """The run's share of the look's search."""

    @property
    def work(self) -> Path:
        """The run's work folder (cleared when the run starts and when it ends)."""
        return Path(self.config.work_dir) / self.aoi.name / self.found.date
