"""Shared fixtures: the real data folder (skipped cleanly when absent) and a blocked network."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SLIDEWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real L4S patches and the Chittagong scene); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set SLIDEWATCH_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may talk to 127.0.0.1 only."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not (host.startswith("127.") or host.startswith("/"))
        ):
            raise RuntimeError(f"test tried to reach {host}; tests stay on 127.0.0.1")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _torch_threads_restored() -> Iterator[None]:
    """A test (or an engine it loads with ``threads=``) that sets torch's thread count sets it
    for itself only: the next test, in any order, starts with the count this one started with.
    Never imports torch itself."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None and before is not None and torch.get_num_threads() != before:
        torch.set_num_threads(before)


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, reason: str) -> None:
    """Skip with ``reason`` when a system component (browser, database server) is missing,
    except under ``CI=true``, where the test fails instead: CI installs everything."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: scripts/test.sh must install and start it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's headless Chromium for browser tests (never Playwright's own download)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "no chromium on PATH; apt-get install chromium (scripts/test.sh)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require(False, "Python package playwright is not installed; pip install -e '.[dev]'")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL from ``SLIDEWATCH_TEST_DB_URL`` (scripts/test.sh starts a local server)."""
    url = os.environ.get("SLIDEWATCH_TEST_DB_URL", "")
    require(bool(url), "SLIDEWATCH_TEST_DB_URL is not set; scripts/test.sh starts PostgreSQL")
    return url


@pytest.fixture(scope="session")
def threshold_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model whose output is known exactly (:mod:`slidewatch.synthetic.model`: a U-Net with
    hand-set weights, landslide where ``-0.9*B2 + B4 - 0.2*B8 > 0``), its ONNX graph exported:
    on the synthetic scenes its mask is their scar mask on every processor. Tests of the
    monitoring logic use it; a model trained on the spot is for end-to-end checks only."""
    from slidewatch.synthetic.model import write_threshold_model

    return write_threshold_model(tmp_path_factory.mktemp("threshold_model"))
