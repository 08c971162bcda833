"""What one server process holds: the registry connection, the archive root, the job runner
and the optional scheduler. Routes reach it through ``request.app.state.service``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from slidewatch.monitoring.archive import Archive
from slidewatch.monitoring.registry import Registry
from slidewatch.service.jobs_store import JobRunner
from slidewatch.service.locations import archive_root, jobs_root, registry_url
from slidewatch.service.settings import ServiceSettings


@dataclass
class ServiceState:
    """The long-lived parts of a server process."""

    settings: ServiceSettings
    registry: Registry
    archive: Archive
    jobs: JobRunner
    scheduler: Any = field(default=None)

    @classmethod
    def open(cls, settings: ServiceSettings) -> ServiceState:
        archive = archive_root(settings)
        return cls(
            settings=settings,
            registry=Registry(registry_url(settings)),
            archive=archive,
            jobs=JobRunner(jobs_root(settings, archive), settings),
        )

    def start(self) -> None:
        """Start the background parts: jobs left by a dead server queued again (workers on
        demand), the scheduler when enabled."""
        self.jobs.adopt_orphans()
        if self.settings.scheduler:
            from slidewatch.service.scheduler import Scheduler

            self.scheduler = Scheduler(self.settings)
            self.scheduler.start()

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.jobs.close()
        self.registry.close()


def service_of(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state
