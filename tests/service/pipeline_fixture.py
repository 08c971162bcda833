"""An archive made by the monitoring pipeline, as a user makes it: the monitoring example's
two-date local STAC catalogue (a new scar on the second date, a cloud over an old one), the
hand-set model of :mod:`slidewatch.synthetic.model` (its mask is the scenes' scars on every
processor; ONNX engine), ``slidewatch monitor add`` and two ``monitor run-once`` in
subprocesses. The service tests read what that left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.monitoring.model import SOURCE_BANDS

from slidewatch.monitoring.registry import Registry

AOI_NAME = "hills"
LOOKS = ("2023-03-03T00:00:00Z", "2023-03-09T00:00:00Z")
DATES = ("2023-03-01", "2023-03-06")


SRC = Path(__file__).resolve().parents[2] / "src"


def run_cli(*args: str) -> tuple[int, str]:
    """``slidewatch ARGS`` in a subprocess, as a user runs it: (exit code, output)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "slidewatch", *args], capture_output=True,
                          text=True, env=env, timeout=600)  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


@dataclass(frozen=True)
class Fixture:
    home: Path
    db_url: str
    archive: Path
    run_ids: tuple[int, ...]
    """Done runs, oldest first."""
    example: Any
    model: Path
    aoi: str = AOI_NAME


def build(root: Path) -> Fixture:
    """Write the example and the model, add the AOI and look twice; return what is there."""
    from slidewatch.synthetic import write_example
    from slidewatch.synthetic.model import write_threshold_model

    example = write_example(root / "example")
    model = write_threshold_model(root / "model")
    home = root / "home"
    aoi = root / f"{AOI_NAME}.geojson"
    aoi.write_text(json.dumps(example.aoi))
    code, output = run_cli(
        "monitor",
        "add",
        AOI_NAME,
        "--aoi",
        str(aoi),
        "--model",
        str(model),
        "--stac-url",
        str(example.catalog),
        "--bands",
        SOURCE_BANDS,
        "--home",
        str(home),
    )
    if code != 0:
        raise RuntimeError(f"monitor add failed:\n{output}")
    for now in LOOKS:
        code, output = run_cli("monitor", "run-once", "--now", now, "--home", str(home))
        if code != 0 or " done" not in output:
            raise RuntimeError(f"monitor run-once --now {now} did not finish a run:\n{output}")
    db_url = f"sqlite:///{home.resolve() / 'registry.db'}"
    with Registry(db_url) as registry:
        runs = [r for r in registry.runs(AOI_NAME) if r.state == "done"]
    run_ids = tuple(r.id for r in sorted(runs, key=lambda r: r.acquisition_date or ""))
    return Fixture(home, db_url, home / "archive", run_ids, example, model)


def add_fresh_aoi(fixture: Fixture, home: Path, name: str = "valley", *extra: str) -> None:
    """``monitor add`` the example's AOI as ``name`` in a new ``home`` (``--db`` etc. in
    ``extra``), looking back far enough that its first look finds both acquisitions."""
    aoi = home.parent / f"{name}.geojson"
    aoi.write_text(json.dumps(fixture.example.aoi))
    code, output = run_cli(
        *("monitor", "add", name, "--aoi", str(aoi), "--model", str(fixture.model)),
        *("--stac-url", str(fixture.example.catalog), "--bands", SOURCE_BANDS),
        *("--lookback-days", "20000", "--home", str(home), *extra),
    )
    if code != 0:
        raise RuntimeError(f"monitor add failed:\n{output}")
