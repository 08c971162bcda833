"""Bad ``--aoi`` values give a clear ``Error:`` in ``fetch`` and ``monitor add``, never a
traceback (issue 22: RecursionError, AttributeError, GEOSException)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.cli import cli

DEPTH = 100_000


def _deep(depth: int) -> str:
    return '{"type": "Polygon", "coordinates": ' + "[" * depth + "]" * depth + "}"


CASES = {
    "nested-file": None,  # written to a file: 200 kB is past a command line's limit
    "nested-inline": _deep(20_000),
    "nan": "nan,nan,nan,nan",
    "huge": "0,0,1e400,1",
    "inf": "-inf,0,1,1",
    "nan-in-geojson": '{"type":"Polygon","coordinates":[[[0,0],[NaN,0],[1,1],[0,0]]]}',
    "huge-in-geojson": '{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}',
}


def _args(command: str, aoi: str, tmp_path: Path) -> list[str]:
    if command == "fetch":
        return ["fetch", "--aoi", aoi, "--start", "2024-01-01", "--end", "2024-02-01",
                str(tmp_path / "stack.tif")]  # fmt: skip
    return ["monitor", "add", "x", "--aoi", aoi, "--model", str(tmp_path / "model"),
            "--home", str(tmp_path / "home")]  # fmt: skip


@pytest.mark.parametrize("command", ["fetch", "monitor add"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_aoi_is_a_clear_error(tmp_path: Path, command: str, case: str) -> None:
    aoi = CASES[case]
    if aoi is None:
        path = tmp_path / "deep.geojson"
        path.write_text(_deep(DEPTH))
        aoi = str(path)
    result = CliRunner().invoke(cli, _args(command, aoi, tmp_path))
    assert result.exit_code == 2, result.output
    assert "Error:" in result.output and "--aoi" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert not (tmp_path / "stack.tif").exists() and not (tmp_path / "home").exists()
