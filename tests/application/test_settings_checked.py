"""Settings are checked when read: a bad value stops the command or ``serve`` with the name
of its setting and the fix, never a traceback; docs/service.md's example of
``SLIDEWATCH_SOURCES`` is the form the server reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.acquisition.options import SourceConfig
from slidewatch.application.settings import HomeSettings
from slidewatch.cli import cli
from slidewatch.errors import ConfigError
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def _documented_sources() -> str:
    row = next(line for line in DOCS.read_text().splitlines() if "`SLIDEWATCH_SOURCES`" in line)
    found = re.search(r"`(\{\"default\".*?\}\})`", row)
    assert found, row
    return found.group(1)


def test_the_documented_sources_are_what_the_server_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIDEWATCH_SOURCES", _documented_sources())
    settings = ServiceSettings.read(home=tmp_path)
    config = SourceConfig.from_dict(settings.source_options("default"))
    assert config.kind == "stac" and config.stac_url == "file:///data/catalog/catalog.json"
    create_app(settings)  # starts


def test_a_source_named_by_source_instead_of_kind_names_the_setting_and_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIDEWATCH_SOURCES", '{"default": {"source": "stac"}}')
    with pytest.raises(ConfigError) as caught:
        ServiceSettings.read(home=tmp_path)
    message = str(caught.value)
    assert message.startswith("SLIDEWATCH_SOURCES: source 'default': unknown source option")
    assert "named by 'kind': stac, gee" in message and "valid: asset_keys" in message
    monkeypatch.setenv("SLIDEWATCH_SOURCES", '{"default": {"kind": "sentinelhub"}}')
    with pytest.raises(ConfigError, match=r"SLIDEWATCH_SOURCES: .*kind 'sentinelhub'; valid: stac"):
        HomeSettings.read(home=tmp_path)


def test_serve_stops_on_bad_settings_with_their_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    home = ["serve", "--home", str(tmp_path)]
    cases = {
        "SLIDEWATCH_SOURCES": ('{"default": {"source": "stac"}}', "named by 'kind'"),
        "SLIDEWATCH_MODELS_DIR": (str(tmp_path / "absent"), "is not a folder"),
        "SLIDEWATCH_SMTP_PORT": ("abc", "valid integer"),
    }
    for name, (value, reason) in cases.items():
        with monkeypatch.context() as env:
            env.setenv(name, value)
            result = runner.invoke(cli, home)
        assert result.exit_code == 2, (name, result.output)
        assert f"Error: {name}: " in result.output and reason in result.output
        assert "Traceback" not in result.output
    monkeypatch.setenv("SLIDEWATCH_SOURCES", "{not json")
    result = runner.invoke(cli, ["monitor", "list", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "SLIDEWATCH_SOURCES: not valid JSON" in result.output
