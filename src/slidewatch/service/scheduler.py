"""The in-process schedule of ``slidewatch serve --scheduler``: a plain loop.

Every ``scheduler_interval_s`` a thread starts ``slidewatch monitor run-once`` on this server's
registry and archive as a subprocess (unless the previous one still runs) — exactly what cron
would do. The registry decides what is due and its unique run key makes sure two servers (or a
server and a cron job) never process the same acquisition twice; the subprocess keeps detection
(and whatever it imports) out of the server process.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

from slidewatch.service.locations import monitor_options
from slidewatch.service.settings import ServiceSettings

log = logging.getLogger(__name__)


def run_once_command(settings: ServiceSettings) -> list[str]:
    """The ``monitor run-once`` command line for this server's registry and archive."""
    options = monitor_options(settings)
    return [
        *(sys.executable, "-m", "slidewatch", "monitor", "run-once"),
        *("--home", str(settings.home), "--db", options["db_url"]),
        *("--storage", options["storage"]),
    ]


class Scheduler:
    """Starts a look at what is due every interval, one at a time, until stopped."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="slidewatch-scheduler", daemon=True)
        self._process: subprocess.Popen[bytes] | None = None
        self.ticks = 0

    def start(self) -> None:
        """The first look starts now (before the server answers), the next ones each interval."""
        self.tick()
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.scheduler_interval_s):
            self.tick()

    def tick(self) -> bool:
        """Start a run-once unless one is still running; whether one was started."""
        if self._process is not None and self._process.poll() is None:
            return False
        if self._process is not None and self._process.returncode:
            log.warning("monitor run-once exited with %s", self._process.returncode)
        command = run_once_command(self.settings)
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        self.ticks += 1
        return True

    @property
    def looking(self) -> bool:
        """Whether a look started by this scheduler is running now."""
        return self._process is not None and self._process.poll() is None

    def wait(self, timeout_s: float | None = None) -> int | None:
        """Wait for the running look (if any) to end; its exit status."""
        if self._process is None:
            return None
        return self._process.wait(timeout=timeout_s)

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # its run resumes on the next look (crash-safe runs)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._thread.join(timeout=5)
