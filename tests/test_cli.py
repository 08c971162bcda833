from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from slidewatch.cli import COMMANDS, cli


def test_help_lists_every_command_without_importing_them() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_unknown_command_is_a_clean_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "slidewatch", "frobnicate"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "No such command" in proc.stderr


def test_every_data_subcommand_has_help() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["data", "--help"])
    assert listing.exit_code == 0
    for name in ("check", "stats", "cache", "build-patches", "split", "normalization", "generate"):
        assert name in listing.output
        result = runner.invoke(cli, ["data", name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (name, result.output)
