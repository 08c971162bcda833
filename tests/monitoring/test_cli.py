"""The monitor commands' messages on bad input: one line, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from slidewatch.cli import cli

SQUARE = {"type": "Polygon", "coordinates": [[[-77.6, -9.4], [-77.59, -9.4], [-77.59, -9.39],
                                               [-77.6, -9.39], [-77.6, -9.4]]]}  # fmt: skip


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_monitor_commands_on_an_empty_home(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    code, out = invoke("monitor", "list", "--home", home)
    assert code == 0 and "no AOIs" in out
    code, out = invoke("monitor", "history", "nowhere", "--home", home)
    assert code == 2 and out.startswith("Error: unknown AOI 'nowhere'; registered: none")
    code, out = invoke("monitor", "run-once", "--home", home)
    assert code == 0 and "nothing due" in out
    code, out = invoke("monitor", "run-once", "--now", "yesterday", "--home", home)
    assert code == 2 and "ISO time" in out


def test_add_refuses_a_missing_model_and_a_duplicate(tmp_path: Path) -> None:
    from tests.models.conftest import save_tiny_model

    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(SQUARE))
    home = str(tmp_path / "home")
    code, out = invoke("monitor", "add", "a", "--aoi", str(aoi), "--model",
                       str(tmp_path / "none"), "--home", home)  # fmt: skip
    assert code == 2 and "Error:" in out and "Traceback" not in out
    save_tiny_model(tmp_path / "model")
    args = ["monitor", "add", "a", "--aoi", str(aoi), "--model", str(tmp_path / "model"),
            "--home", home, "--webhook", "https://hooks.example.org/x"]  # fmt: skip
    assert invoke(*args)[0] == 0
    code, out = invoke(*args)
    assert code == 2 and "already exists" in out
    code, out = invoke("monitor", "list", "--home", home)
    assert "a " in out and "due now" in out
    assert invoke("monitor", "pause", "a", "--home", home)[0] == 0
    assert "paused" in invoke("monitor", "list", "--home", home)[1]
    assert "nothing due" in invoke("monitor", "run-once", "--home", home)[1]
    assert invoke("monitor", "resume", "a", "--home", home)[0] == 0
    assert "due now" in invoke("monitor", "list", "--home", home)[1]
    assert invoke("monitor", "remove", "a", "--home", home)[0] == 0
    assert "no AOIs" in invoke("monitor", "list", "--home", home)[1]
