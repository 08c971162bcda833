"""The Alembic migrations are package data, not modules: every file a wheel needs to upgrade
a registry matches one of pyproject.toml's package-data globs."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

import slidewatch
from slidewatch.monitoring.registry.database import migrations_config

ROOT = Path(slidewatch.__file__).parent
PYPROJECT = ROOT.parents[1] / "pyproject.toml"


def test_every_migration_file_is_package_data() -> None:
    globs = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    location = Path(migrations_config(None).get_main_option("script_location") or "")
    files = [p for p in location.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) >= 4  # env.py, the template and the versions
    for path in files:
        relative = PurePosixPath(path.relative_to(ROOT).as_posix())
        matches = [
            g
            for g in globs["slidewatch"]
            if len(PurePosixPath(g).parts) == len(relative.parts) and relative.match(g)
        ]
        assert matches, f"{relative} is in no package-data glob of pyproject.toml"
