"""``detect --engine onnx`` runs without torch: no torch/lightning import, and on an
install where torch cannot be imported at all (a ``sys.meta_path`` blocker)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference.engine import load_engine

from .conftest import scene_array, write_scene

BLOCK_TORCH = """
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'lightning', 'torchvision', 'onnx'):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _Block())
"""

RUN_DETECT = """
import sys
from slidewatch.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning'))
print('EXIT', code, 'HEAVY', ','.join(heavy) or '-')
"""


def _detect(args: list[str], block_torch: bool) -> tuple[str, str]:
    code = (BLOCK_TORCH if block_torch else "") + RUN_DETECT
    src = str(Path(__file__).parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", code, "detect", *args, "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return last, done.stdout + done.stderr


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.tif", scene_array(150, 170))


@pytest.fixture
def model_with_graph(tiny_model: Path, tmp_path: Path) -> Path:
    model = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    load_engine(model, "onnx")  # exports model.onnx beside the weights
    return model


def test_detect_with_onnx_imports_neither_torch_nor_lightning(
    scene: Path, model_with_graph: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = [str(scene), "--model", str(model_with_graph), "--out", str(out)]
    line, log = _detect([*args, "--engine", "onnx", "--tile-px", "64"], block_torch=False)
    assert line == "EXIT 0 HEAVY -", log
    assert json.loads((out / "summary.json").read_text())["options"]["engine"] == "onnx"
    line, log = _detect([*args, "--engine", "torch", "--tile-px", "64"], block_torch=False)
    assert line.startswith("EXIT 0 HEAVY ") and "torch" in line, log  # the check can fail


def test_detect_runs_where_torch_cannot_be_imported(
    scene: Path, model_with_graph: Path, tmp_path: Path
) -> None:
    torch_out = tmp_path / "torch"
    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions

    detect(scene, model_with_graph, torch_out,
           DetectOptions(tile_px=64, overlap_px=16, engine="torch"), progress=False)  # fmt: skip
    for model in (model_with_graph, model_with_graph / "model.onnx"):  # folder, bare graph
        out = tmp_path / model.name
        line, log = _detect(
            [str(scene), "--model", str(model), "--out", str(out), "--tile-px", "64",
             "--overlap-px", "16"],
            block_torch=True,
        )  # fmt: skip
        assert line == "EXIT 0 HEAVY -", log
        with (
            rasterio.open(out / "probability.tif") as a,
            rasterio.open(torch_out / "probability.tif") as b,
        ):
            np.testing.assert_allclose(a.read(1), b.read(1), atol=1e-4)


def test_a_stale_graph_without_torch_is_a_clear_error(
    scene: Path, model_with_graph: Path, tmp_path: Path
) -> None:
    spec = model_with_graph / "model.json"
    doc = json.loads(spec.read_text())
    doc["threshold"] = 0.6  # recalibrated after the graph was exported
    spec.write_text(json.dumps(doc))
    line, log = _detect(
        [str(scene), "--model", str(model_with_graph), "--out", str(tmp_path / "o"),
         "--engine", "onnx"],
        block_torch=True,
    )  # fmt: skip
    assert line.startswith("EXIT 2"), log
    assert "exporting needs torch, which is not installed" in log
    assert "slidewatch export --model" in log and "Traceback" not in log
