"""The dataset check, statistics and patch building never import torch (nor Lightning):
each runs in a fresh interpreter and ``sys.modules`` is read afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from slidewatch.synthetic import make_l4s_dataset

from .test_build_cli import make_scene

HEAVY = ("torch", "lightning", "torchmetrics")


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter; return what it printed (fails on a crash)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_then_modules(args: list[str]) -> str:
    return (
        "import sys\n"
        "from slidewatch.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )


@pytest.mark.parametrize("command", ["check", "stats"])
def test_check_and_stats_do_not_import_torch(tmp_path: Path, command: str) -> None:
    data = make_l4s_dataset(tmp_path / "ds", n=3, size=32).root
    out = run_fresh(cli_then_modules(["data", command, str(data)]))
    assert "HEAVY []" in out, out
    assert out.count("\n") > 1  # the command itself printed its report


def test_build_patches_does_not_import_torch(tmp_path: Path) -> None:
    scene, labels = make_scene(tmp_path)
    code = (
        "import sys\n"
        "import slidewatch.cli.build\n"  # the command's module, as the CLI imports it
        "from slidewatch.data.build import build_patches\n"
        f"built = build_patches({str(scene)!r}, {str(labels)!r}, {str(tmp_path / 'p')!r}, "
        "size=32, progress=False)\n"
        "print('patches', built.n_patches)\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = run_fresh(code)
    assert "patches 12" in out and "HEAVY []" in out, out
