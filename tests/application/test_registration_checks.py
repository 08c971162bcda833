"""What ``monitor add`` (and ``POST /aois``) refuse at registration: a name with a trailing
newline, a truncated weights file; and a zero-byte ``registry.db`` is not a registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.service.conftest import make_model_dir

from slidewatch.cli import cli

BBOX = "91.84,22.44,91.86,22.46"


def _add(tmp_path: Path, name: str, model: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["monitor", "add", name, "--aoi", BBOX, "--model",
                                      str(model), "--home", str(tmp_path / "home")])  # fmt: skip
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["evil\n", "evil\nx", "Evil", "../evil", "evil "])
def test_names_must_match_whole(tmp_path: Path, name: str) -> None:
    code, out = _add(tmp_path, name, make_model_dir(tmp_path))
    assert code == 2 and "Error:" in out
    assert not any("\n" in p.name for p in tmp_path.rglob("*"))


def test_a_truncated_weights_file_is_refused(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])  # a copy cut short
    code, out = _add(tmp_path, "valley", model)
    assert code == 2 and "not a readable safetensors file" in out
    assert _add(tmp_path, "valley", make_model_dir(tmp_path / "good"))[0] == 0


def test_a_zero_byte_registry_is_not_a_registry(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "registry.db").touch()
    os.utime(home / "registry.db", (1e9, 1e9))  # left long ago, not a registry being created
    result = CliRunner().invoke(cli, ["monitor", "list", "--home", str(home)])
    assert result.exit_code == 2 and "not a slidewatch registry" in result.output
    assert (home / "registry.db").stat().st_size == 0  # left as it was
