"""Fixtures of the labeling tests: small datasets, a tiny ONNX-ready model, a live server."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.offline_browser import offline_chromium

from slidewatch.bands import BAND_SETS
from slidewatch.synthetic import make_l4s_dataset

RGBN = BAND_SETS["rgbn"]
REAL_IDS = (1, 3, 16)
"""Real L4S patches copied for the tests (3 has an empty mask)."""


@pytest.fixture
def real_copy(shared_data: Path, tmp_path: Path) -> Path:
    """A few real L4S patches copied into tmp_path (images only: to be labeled)."""
    root = tmp_path / "real"
    (root / "img").mkdir(parents=True)
    for n in REAL_IDS:
        shutil.copy(shared_data / "l4s-real" / "img" / f"image_{n}.h5", root / "img")
    return root


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """Four unlabeled 32×32 14-band patches in the flat layout."""
    return make_l4s_dataset(tmp_path / "gen", n=4, size=32, seed=3, with_masks=False).root


@pytest.fixture
def four_band(tmp_path: Path) -> Path:
    """Three unlabeled 32×32 B2,B3,B4,B8 patches."""
    return make_l4s_dataset(
        tmp_path / "rgbn", n=3, size=32, seed=4, bands="B2,B3,B4,B8", with_masks=False
    ).root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 4-band unet (base width 8, threshold 0.5) with its ONNX graph exported."""
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.inference.engine import load_engine
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("unet", len(RGBN), base_width=8)
    spec = ModelSpec(
        "unet", {"base_width": 8}, RGBN, Normalization.identity(RGBN), threshold=0.5, patch_size=32
    )
    directory = save_model(tmp_path_factory.mktemp("model") / "model", model.eval(), spec)
    load_engine(directory, engine="onnx")  # writes model.onnx beside the weights
    assert (directory / "model.onnx").is_file()
    return directory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[object]:
    """Start a labeling app (or ``app``) on 127.0.0.1 in a thread: ``serve(folders, models=None,
    app=None)`` -> URL."""
    import uvicorn

    from slidewatch.service.labeling import LabelDatasets, label_app

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(
        folders: dict[str, Path], models: dict[str, Path] | None = None, app: object = None
    ) -> str:
        port = free_port()
        app = app or label_app(LabelDatasets(folders, models, annotator="tester"))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "labeling server did not start"
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def browser_page(chromium_path: str) -> Iterator[Callable[[str], Any]]:
    """``open(url)`` -> a Playwright page that may reach 127.0.0.1 only."""
    with offline_chromium(chromium_path, 1300, 1000) as chromium:

        def open_page(url: str) -> Any:
            page = chromium.open(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            return page

        yield open_page
    assert not chromium.errors, chromium.errors
    assert not chromium.refused, chromium.refused
