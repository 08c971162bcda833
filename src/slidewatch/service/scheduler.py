"""The in-process schedule of ``slidewatch serve --scheduler``: a plain loop.

Every ``scheduler_interval_s`` a thread starts a look at what is due
(:func:`slidewatch.application.runs.run_due`, what ``monitor run-once`` runs) in a child
process, unless the previous one still runs — exactly what cron would do. The child gets this
server's settings object (never secrets on a command line); the registry decides what is due
and its unique run key makes sure two servers (or a server and a cron job) never process the
same acquisition twice; the child keeps detection (and whatever it imports) out of the server
process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from multiprocessing.process import BaseProcess

from slidewatch.application.settings import HomeSettings
from slidewatch.service.settings import ServiceSettings

log = logging.getLogger(__name__)


def look_at_due(settings: HomeSettings) -> None:
    """In the child: run the due looks; exit status 1 when a run failed. Its progress lines
    are not the server's log (an operator reads the runs through the API)."""
    from slidewatch.application.runs import run_due
    from slidewatch.errors import SlidewatchError

    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (the child's whole life)
    try:
        settings.apply()  # a spawned child: the server's process-wide knobs again
        report = run_due(settings)
    except SlidewatchError as exc:  # the home itself is unusable (registry, archive)
        print(f"slidewatch: the scheduled look failed: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if report.failed else 0)


class Scheduler:
    """Starts a look at what is due every interval, one at a time, until stopped."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="slidewatch-scheduler", daemon=True)
        self._process: BaseProcess | None = None
        self.ticks = 0

    def start(self) -> None:
        """The first look starts now (before the server answers), the next ones each interval."""
        self.tick()
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.scheduler_interval_s):
            self.tick()

    def tick(self) -> bool:
        """Start a look unless one is still running; whether one was started."""
        if self._process is not None and self._process.is_alive():
            return False
        if self._process is not None and self._process.exitcode:
            log.warning("the scheduled look exited with %s", self._process.exitcode)
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=look_at_due, args=(self.settings,),
                                        name="slidewatch-look", daemon=False)  # fmt: skip
        self._process.start()
        self.ticks += 1
        return True

    @property
    def looking(self) -> bool:
        """Whether a look started by this scheduler is running now."""
        return self._process is not None and self._process.is_alive()

    def wait(self, timeout_s: float | None = None) -> int | None:
        """Wait for the running look (if any) to end; its exit status."""
        if self._process is None:
            return None
        self._process.join(timeout_s)
        return self._process.exitcode

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None and self._process.is_alive():
            self._process.terminate()  # its run resumes on the next look (crash-safe runs)
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
        self._thread.join(timeout=5)
