"""``slidewatch serve`` as a user runs it: help, and a real server answering on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.service.conftest import free_port

from slidewatch.cli import cli

SRC = Path(__file__).resolve().parents[2] / "src"


def test_serve_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--home", "--db", "--storage", "--host", "--port", "--scheduler"):
        assert option in result.output
    assert "serve" in CliRunner().invoke(cli, ["--help"]).output


def test_serve_starts_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "SLIDEWATCH_API_KEYS": "k"}
    command = [
        sys.executable,
        "-m",
        "slidewatch",
        "serve",
        "--home",
        str(tmp_path / "home"),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        health = None
        for _ in range(200):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.json()["status"] == "ok"
        assert (tmp_path / "home" / "registry.db").is_file()
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert "maplibre-gl.js" in page.text
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert f"serving http://127.0.0.1:{port}/" in err
    assert "Traceback" not in err


def test_serve_bad_storage_is_a_clean_error(tmp_path: Path) -> None:
    storage = ["--storage", "nosuchfs://b/x"]  # no fsspec filesystem of that name
    result = CliRunner().invoke(cli, ["serve", "--home", str(tmp_path), *storage])
    assert result.exit_code == 2 and "Error: " in result.output and "fsspec" in result.output


def test_serve_shares_the_home_options_of_monitor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from slidewatch.service import app as service_app
    from slidewatch.service.settings import ServiceSettings

    seen: list[ServiceSettings] = []
    monkeypatch.setattr(service_app, "create_app", lambda settings: seen.append(settings))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("SLIDEWATCH_STORAGE", str(tmp_path / "from-env"))
    args = ["serve", "--home", str(tmp_path / "h"), "--db", "sqlite:///x.db", "--scheduler"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert isinstance(settings, ServiceSettings) and settings.scheduler
    assert settings.home == tmp_path / "h" and settings.storage == str(tmp_path / "from-env")
    assert settings.layout.registry_url == "sqlite:///x.db"
    monitor_help = CliRunner().invoke(cli, ["monitor", "list", "--help"]).output
    serve_help = CliRunner().invoke(cli, ["serve", "--help"]).output
    for flag in ("--home PATH", "--db URL", "--storage URL"):
        assert flag in monitor_help and flag in serve_help
