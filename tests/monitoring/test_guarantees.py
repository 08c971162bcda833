"""The guarantees, each shown on real processes: crash safety under SIGKILL, two run-once
processes at once, a failing AOI that does not stop the others, Dask spreading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.monitoring.cli_runner import command, env, parse, run_cli
from tests.monitoring.test_end_to_end import add_args

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Alert, Aoi, Delivery

FIRST, SECOND = "2023-03-03T00:00:00Z", "2023-03-09T00:00:00Z"


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def _features(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["features"]


def test_sigkill_during_detection_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, threshold_model: Path, example: Any, receiver: Any
) -> None:
    url, handler = receiver
    handler.answers.clear()
    calm, crashed = tmp_path / "calm" / "home", tmp_path / "crashed" / "home"
    for home in (calm, crashed):
        home.parent.mkdir()
        run_cli(*add_args("site", example, threshold_model, home, "--webhook", url))
        run_cli("monitor", "run-once", "--now", FIRST, "--home", str(home))
    run_cli("monitor", "run-once", "--now", SECOND, "--home", str(calm))

    args = ["monitor", "run-once", "--now", SECOND, "--home", str(crashed)]
    proc = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env())  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"stage": "detect"' in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Registry(f"sqlite:///{crashed / 'registry.db'}") as registry:
        assert [r.state for r in registry.runs("site")] == ["running", "done"]  # killed mid-run

    _, out, heavy = run_cli(*args)
    assert "2023-03-06 done" in " ".join(out.split()) and heavy == []
    temporary = (".part", ".partial", ".tmp")
    left = [p for p in crashed.rglob("*") if any(t in p.name for t in temporary)]
    assert left == [] and not any((crashed / "work").rglob("*.tif"))
    calm_files, crashed_files = _files(calm / "archive"), _files(crashed / "archive")
    assert sorted(calm_files) == sorted(crashed_files)
    for name, path in calm_files.items():
        if name.endswith(".tif"):
            assert path.read_bytes() == crashed_files[name].read_bytes(), name
        if name.endswith(".geojson"):
            assert _features(path) == _features(crashed_files[name]), name
    for home in (calm, crashed):
        with Registry(f"sqlite:///{home / 'registry.db'}") as registry, registry.session() as s:
            assert s.query(Alert).count() == 1
            assert [d.state for d in s.query(Delivery)] == ["delivered"]
    assert len(handler.received) == 2  # one per home: none lost, none doubled


def test_two_run_once_processes_at_once_process_each_aoi_once(
    tmp_path: Path, threshold_model: Path, example: Any, db_url: str
) -> None:
    home = tmp_path / "home"
    for name in ("east", "west"):
        run_cli(*add_args(name, example, threshold_model, home, "--db", db_url))
    args = ["monitor", "run-once", "--now", SECOND, "--home", str(home), "--db", db_url]
    procs = [subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env()) for _ in range(2)]  # fmt: skip
    outputs = [parse(p.wait(), p.communicate()[0], check=False) for p in procs]
    assert all(code == 0 for code, _, _ in outputs), outputs
    with Registry(db_url) as registry:
        for name in ("east", "west"):
            runs = registry.runs(name)
            assert sorted((r.acquisition_date, r.state) for r in runs) == [
                ("2023-03-01", "done"),
                ("2023-03-06", "done"),
            ]
        with registry.session() as s:
            assert s.query(Alert).count() == 2  # one new landslide per AOI
    catalog = json.loads((home / "archive" / "catalog.json").read_text())
    children = sorted(link["href"] for link in catalog["links"] if link["rel"] == "child")
    assert children == ["./east/collection.json", "./west/collection.json"]
    assert not [p for p in (home / "archive").rglob("*") if ".part" in p.name]


def test_a_failing_aoi_fails_its_run_and_the_others_still_run(
    tmp_path: Path, threshold_model: Path, example: Any
) -> None:
    home = tmp_path / "home"
    run_cli(*add_args("good", example, threshold_model, home))
    down = add_args("down", example, threshold_model, home)
    down[down.index("--stac-url") + 1] = str(tmp_path / "gone" / "catalog.json")
    run_cli(*down)
    run_cli(*add_args("badgeom", example, threshold_model, home))
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry, registry.session() as s:
        bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        s.query(Aoi).filter(Aoi.name == "badgeom").update({"geometry": bowtie})  # by hand
    code, out, _ = run_cli("monitor", "run-once", "--now", FIRST, "--home", str(home),
                           check=False)  # fmt: skip
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "done" in lines["good"]
    assert "failed" in lines["down"] and "search failed" in lines["down"]
    assert "failed" in lines["badgeom"] and "AOI geometry" in lines["badgeom"]
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        assert registry.runs("down")[0].reason.startswith("search failed")


def test_dask_workers_spread_the_looks(tmp_path: Path, threshold_model: Path, example: Any) -> None:
    home = tmp_path / "home"
    for name in ("north", "south"):
        run_cli(*add_args(name, example, threshold_model, home))
    _, out, _ = run_cli("monitor", "run-once", "--now", FIRST, "--workers", "2",
                        "--home", str(home))  # fmt: skip
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        for name in ("north", "south"):
            assert [r.state for r in registry.runs(name)] == ["done"], out
