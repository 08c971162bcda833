"""Service fixtures: a monitored area recorded through the monitoring registry (built once),
apps over it, and a real uvicorn server on 127.0.0.1 for the browser and load tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.service import pipeline_fixture
from tests.service.pipeline_fixture import Fixture

from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

API_KEY = "test-key-0123456789"


def write_model_files(folder: Path, bands: tuple[str, ...]) -> Path:
    """A model folder as registration reads it: a valid description (``read_spec``) and
    a whole safetensors file that these tests never run."""
    import numpy as np
    from safetensors.numpy import save_file

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec

    spec = ModelSpec("unet", {"base_width": 4}, bands, Normalization.identity(bands))
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(spec.to_dict()))
    save_file({"weight": np.zeros(16, np.float32)}, str(folder / "model.safetensors"))
    return folder


def make_model_dir(root: Path) -> Path:
    """The model ``tiny`` of a home's models folder."""
    return write_model_files(root / "models" / "tiny", ("B4", "B3", "B2"))


SMALL_AOI = {
    "type": "Polygon",
    "coordinates": [
        [[91.84, 22.44], [91.86, 22.44], [91.86, 22.46], [91.84, 22.46], [91.84, 22.44]]
    ],
}
"""A 2 km × 2 km area for requests that add AOIs or start jobs."""


@pytest.fixture(scope="session")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """Two looks at the monitoring example by the monitoring pipeline (read only)."""
    return pipeline_fixture.build(tmp_path_factory.mktemp("monitored"))


def settings_for(fixture: Fixture, **extra: object) -> ServiceSettings:
    values: dict[str, object] = {
        "home": fixture.home,
        "db_url": fixture.db_url,
        "storage": str(fixture.archive),
        "api_keys": API_KEY,
    }
    return ServiceSettings(**{**values, **extra})  # type: ignore[arg-type]


@pytest.fixture
def client(monitored: Fixture) -> Iterator[TestClient]:
    """Reads only: the shared monitored area."""
    with TestClient(create_app(settings_for(monitored))) as c:
        yield c


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[TestClient]:
    """An empty registry with one model, for writes."""
    make_model_dir(tmp_path)
    settings = ServiceSettings(home=tmp_path, api_keys=API_KEY)
    with TestClient(create_app(settings)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` in a thread on 127.0.0.1 until stopped."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(monitored: Fixture) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings_for(monitored))) as server:
        yield server
