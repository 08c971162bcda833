"""``slidewatch serve`` as a real subprocess, for tests of several servers and of restarts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.service.conftest import free_port
from tests.service.pipeline_fixture import SRC


@dataclass
class Server:
    """A ``slidewatch serve`` subprocess, its base URL and its error log."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/health", timeout=10).json())

    def stop(self) -> str:
        """Stop it (SIGTERM, as a service manager does); its error log."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(errors="replace")


def start_server(home: Path, db_url: str, *options: str, **env: str) -> Server:
    """``slidewatch serve`` in a subprocess of its own session (so a test can kill it with its
    workers), once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "slidewatch", "serve", "--home", str(home), "--db", db_url,
               "--port", str(port), "--log-level", "warning", *options]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", **env}
    log = home.parent / f"server-{port}.log"
    with log.open("wb") as err:
        process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                                   stderr=err, start_new_session=True)  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            server.health()
            return server
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()}") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer within 120 s")
