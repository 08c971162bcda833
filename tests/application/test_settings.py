"""One settings object for a home: read from ``SLIDEWATCH_*`` (SMTP included) with the
edges' flags winning, one layout of its folders, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.application.settings import HomeSettings
from slidewatch.monitoring.alerts import SmtpSettings
from slidewatch.service.settings import ServiceSettings

SMTP_ENV = {
    "SLIDEWATCH_SMTP_HOST": "mail.example.org",
    "SLIDEWATCH_SMTP_PORT": "2525",
    "SLIDEWATCH_SMTP_FROM": "watch@example.org",
    "SLIDEWATCH_SMTP_USER": "watcher",
    "SLIDEWATCH_SMTP_PASSWORD": "s3cret-smtp",
    "SLIDEWATCH_SMTP_STARTTLS": "1",
}


def test_smtp_and_the_home_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in SMTP_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLIDEWATCH_HOME", str(tmp_path / "from-env"))
    settings = HomeSettings()
    assert settings.smtp == SmtpSettings("mail.example.org", 2525, "watch@example.org",
                                         "watcher", "s3cret-smtp", True)  # fmt: skip
    assert settings.home == tmp_path / "from-env"
    assert HomeSettings(home=tmp_path / "flag").home == tmp_path / "flag"  # a flag wins
    assert "s3cret-smtp" not in repr(settings)


def test_the_layout_of_a_home(tmp_path: Path) -> None:
    layout = HomeSettings(home=tmp_path).layout
    assert layout.registry_url == f"sqlite:///{tmp_path.resolve() / 'registry.db'}"
    assert layout.storage == str(tmp_path.resolve() / "archive")
    assert layout.work_dir == tmp_path.resolve() / "work"
    assert layout.jobs_dir == tmp_path.resolve() / "archive" / "_jobs"  # beside the archive
    assert layout.models_dir == tmp_path.resolve() / "models"
    remote = HomeSettings(home=tmp_path, storage="memory://bucket/archive").layout
    assert remote.storage == "memory://bucket/archive"
    assert remote.jobs_dir == tmp_path.resolve() / "jobs"  # not on object storage
    assert ServiceSettings(home=tmp_path).layout == layout  # the server sees the same home


def test_a_database_password_is_never_shown(tmp_path: Path) -> None:
    url = "postgresql+psycopg://watcher:pa55word@db.example.org/registry"
    settings = HomeSettings(home=tmp_path, db_url=url)
    assert settings.layout.registry_url == url  # what the registry connects with
    assert "pa55word" not in settings.layout.registry_shown
    assert "pa55word" not in repr(settings) and "pa55word" not in str(settings.model_dump())


def test_monitor_commands_read_the_home_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from slidewatch.cli import cli

    monkeypatch.setenv("SLIDEWATCH_HOME", str(tmp_path / "env-home"))
    result = CliRunner().invoke(cli, ["monitor", "list"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-home" / "registry.db").is_file()
    result = CliRunner().invoke(cli, ["monitor", "list", "--home", str(tmp_path / "flag")])
    assert result.exit_code == 0 and (tmp_path / "flag" / "registry.db").is_file()
