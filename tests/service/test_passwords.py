"""A database password never shows: not in the messages of ``monitor list`` or ``serve``
with an unreachable PostgreSQL URL, not in the command line of the scheduler's child."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.redact import mask_password

PASSWORD = "S3cretPw0rd"
URL = f"postgresql+psycopg://watcher:{PASSWORD}@127.0.0.1:9/registry"  # port 9: refused


def test_mask_password_keeps_what_an_operator_needs() -> None:
    assert mask_password(URL) == "postgresql+psycopg://watcher:***@127.0.0.1:9/registry"
    assert mask_password("sqlite:////srv/registry.db") == "sqlite:////srv/registry.db"


@pytest.mark.parametrize(
    "args", [["monitor", "list"], ["monitor", "history", "x"], ["monitor", "run-once"], ["serve"]]
)
def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(cli, [*args, "--db", URL, "--home", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert PASSWORD not in result.output and "watcher:***@127.0.0.1:9" in result.output
    assert "Traceback" not in result.output


def test_the_scheduler_child_gets_no_password_on_its_command_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from slidewatch.service.scheduler import Scheduler
    from slidewatch.service.settings import ServiceSettings

    scheduler = Scheduler(ServiceSettings(home=tmp_path, db_url=URL))  # type: ignore[arg-type]
    assert scheduler.tick()
    process = scheduler._process
    assert process is not None and process.pid is not None
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    argv = cmdline.read_bytes().decode(errors="replace") if cmdline.exists() else ""
    assert PASSWORD not in argv and "registry" not in argv
    assert scheduler.wait(120) == 2  # the child could not open the registry, and said so
    err = capfd.readouterr().err
    assert PASSWORD not in err and "watcher:***@" in err
