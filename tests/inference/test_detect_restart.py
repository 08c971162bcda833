"""A real ``slidewatch detect`` process killed with SIGKILL in the middle of its predict
stage, then run again: the outputs equal those of a run that was never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference.cog import PARTIAL_SUFFIX

from .conftest import scene_array, write_scene

SIDE_PX = 512
"""121 windows of the tiny model's 64 px, two per batch: a predict stage of seconds."""


def detect_command(scene: Path, model: Path, out: Path) -> list[str]:
    args = [str(scene), "--model", str(model), "--out", str(out), "--device", "cpu"]
    args += ["--batch-size", "2", "--quiet"]
    return [sys.executable, "-m", "slidewatch", "detect", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def run_to_completion(scene: Path, model: Path, out: Path) -> None:
    done = subprocess.run(
        detect_command(scene, model, out),
        capture_output=True,
        text=True,
        env=environment(),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def kill_mid_predict(scene: Path, model: Path, out: Path) -> None:
    """Start detect, wait until it writes its first output rows, SIGKILL it."""
    process = subprocess.Popen(
        detect_command(scene, model, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    deadline = time.monotonic() + 300
    try:
        # The temporary rasters appear when the predict stage starts writing rows.
        while not partials(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # some rows predicted, most still to come
        assert process.poll() is None, "detect finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert partials(out), "the kill should leave the half-written rasters behind"
    assert not (out / "probability.tif").exists() and not (out / "summary.json").exists()


def partials(out: Path) -> list[Path]:
    """Files being written (cleaned up by a successful run)."""
    return list(out.glob(f".*{PARTIAL_SUFFIX}")) if out.is_dir() else []


def read_band(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_rerun_after_sigkill_equals_an_uninterrupted_run(
    tmp_path: Path, tiny_model: Path
) -> None:
    scene = write_scene(tmp_path / "scene.tif", scene_array(SIDE_PX, SIDE_PX, seed=5))
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    kill_mid_predict(scene, tiny_model, killed)
    run_to_completion(scene, tiny_model, killed)  # the same command again, same folder
    run_to_completion(scene, tiny_model, clean)
    assert sorted(p.name for p in killed.iterdir()) == sorted(p.name for p in clean.iterdir())
    assert not [p.name for p in killed.iterdir() if p.name.startswith(".")]  # no leftovers
    for name in ("probability.tif", "landslides.tif"):
        np.testing.assert_array_equal(read_band(killed / name), read_band(clean / name))
    geojson = "landslides.geojson"
    assert (killed / geojson).read_text() == (clean / geojson).read_text()
