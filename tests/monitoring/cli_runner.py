"""Run ``slidewatch`` in a real subprocess and report whether it imported torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WRAPPER = """
import json, sys
from slidewatch.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning'))
print('@@modules ' + json.dumps(heavy), flush=True)
sys.exit(code)
"""


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), out.get("PYTHONPATH", "")])
    out.setdefault("OMP_NUM_THREADS", "1")
    out["SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS"] = "127.0.0.0/8"  # the tests' receivers
    return out


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", WRAPPER, *args]


def run_cli(*args: str, check: bool = True) -> tuple[int, str, list[str]]:
    """``(exit code, output, torch/lightning modules imported)``."""
    proc = subprocess.run(command(*args), capture_output=True, text=True, env=env(), timeout=600)
    return parse(proc.returncode, proc.stdout + proc.stderr, check)


def parse(code: int, output: str, check: bool = True) -> tuple[int, str, list[str]]:
    heavy: list[str] = []
    lines = []
    for line in output.splitlines():
        if line.startswith("@@modules "):
            heavy = json.loads(line.removeprefix("@@modules "))
        else:
            lines.append(line)
    text = "\n".join(lines)
    if check and code != 0:
        raise AssertionError(f"exit {code}:\n{text}")
    return code, text, heavy


def stages(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"aoi"')]
