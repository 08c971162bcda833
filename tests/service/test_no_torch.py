"""The service never imports torch (nor Lightning): checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import sys, tempfile, pathlib
from fastapi.testclient import TestClient
from slidewatch.service.app import create_app
from slidewatch.service.settings import ServiceSettings
import slidewatch.service.worker, slidewatch.service.scheduler, slidewatch.cli.serve
home = pathlib.Path(tempfile.mkdtemp())
with TestClient(create_app(ServiceSettings(home=home))) as c:
    for url in ("/health", "/aois", "/processes/detect", "/jobs", "/", "/openapi.json"):
        assert c.get(url).status_code == 200, url
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "lightning", "onnxruntime"))
print(",".join(heavy))
"""


def test_service_does_not_import_torch() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    result = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
