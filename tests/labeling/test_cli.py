"""``slidewatch label`` and ``slidewatch label export`` as a user runs them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from click.testing import CliRunner
from tests.labeling.conftest import free_port

from slidewatch.cli import cli
from slidewatch.labeling.workspace import Workspace

SRC = Path(__file__).resolve().parents[2] / "src"


def test_label_on_a_folder_without_patches_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["label", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "no L4S patches found" in result.output


def test_label_export(generated: Path, tmp_path: Path) -> None:
    ws = Workspace(generated)
    ws.save("img/image_3", np.eye(32, dtype=np.uint8), 0, "save", "ana", 5.0, False)
    out = str(tmp_path / "o")
    result = CliRunner().invoke(cli, ["label", "export", str(generated), "--out", out])
    assert result.exit_code == 0, result.output
    assert "1 labeled patches written" in result.output and "3 not done" in result.output
    check = CliRunner().invoke(cli, ["data", "check", str(tmp_path / "o")])
    assert check.exit_code == 0, check.output


def test_label_serves_the_page_and_never_imports_torch(
    generated: Path, tmp_path: Path, tiny_model: Path
) -> None:
    model = shutil.copytree(tiny_model, tmp_path / "run" / "model")  # with its ONNX graph
    port = free_port()
    probe = (
        "import sys, runpy; sys.argv = ['slidewatch', 'label', sys.argv[1], '--port', sys.argv[2], "
        "'--annotator', 'cli-user', '--model', sys.argv[3]];\n"
        "import atexit\n"
        "atexit.register(lambda: print('TORCH', 'torch' in sys.modules, flush=True))\n"
        "runpy.run_module('slidewatch', run_name='__main__')"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", probe, str(generated), str(port), str(model)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                listing = httpx.get(f"{base}/label/api/gen/patches", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        assert listing.status_code == 200 and listing.json()["progress"]["total"] == 4
        page = httpx.get(f"{base}/label?dataset=gen", timeout=5)
        assert '"annotator": "cli-user"' in page.text
        view = httpx.get(f"{base}/label/api/gen/view/ndvi/img/image_1", timeout=5)
        assert view.status_code == 200
        suggestion = httpx.get(f"{base}/label/api/gen/suggestion/img/image_1", timeout=30)
        assert suggestion.status_code == 200 and suggestion.json()["threshold"] == 0.5
        start = httpx.get(f"{base}/label/api/gen/mask/img/image_1", timeout=30).json()
        assert start["source"] == "suggestion"
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn stops, then Python exits through atexit
        output = proc.communicate(timeout=30)[0]
    assert "open http://127.0.0.1:" in output and "TORCH False" in output, output


def test_label_with_a_missing_model_is_a_clean_error(generated: Path, tmp_path: Path) -> None:
    model = tmp_path / "nomodel"
    model.mkdir()
    result = CliRunner().invoke(cli, ["label", str(generated), "--model", str(model)])
    assert result.exit_code == 2 and "model.json" in result.output
