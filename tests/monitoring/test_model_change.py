"""The first run after the AOI's model version changed (a promotion) is the new model's
baseline: its changes are recorded, but what differs from the old model's outlines is
partly the models' difference, so it alerts nothing, and ``monitor history`` says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.monitoring.cli_runner import run_cli
from tests.monitoring.test_end_to_end import add_args

from slidewatch.models.identity import model_hash
from slidewatch.monitoring.look.results import model_changed
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.records import PreviousRun
from slidewatch.monitoring.registry.tables import Alert, Aoi, Change


def test_a_changed_model_makes_the_run_a_baseline_without_alerts(
    tmp_path: Path, threshold_model: Path, example: Any
) -> None:
    home = tmp_path / "home"
    run_cli(*add_args("chosica", example, threshold_model, home))
    run_cli("monitor", "run-once", "--now", "2023-03-03T00:00:00Z", "--home", str(home))
    other = tmp_path / "other"  # the same weights, another description: another version
    shutil.copytree(threshold_model, other)
    spec = json.loads((other / "model.json").read_text())
    spec["metrics"] = {**spec.get("metrics", {}), "f1": 0.5}
    (other / "model.json").write_text(json.dumps(spec))
    assert model_hash(other) != model_hash(threshold_model)
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry, registry.session() as s:
        aoi = s.query(Aoi).one()
        aoi.model_path, aoi.model_hash = str(other), model_hash(other)
    _, out, _ = run_cli("monitor", "run-once", "--now", "2023-03-09T00:00:00Z",
                        "--home", str(home))  # fmt: skip
    assert "2023-03-06 done" in " ".join(out.split())
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        with registry.session() as s:
            kinds = {c.kind for c in s.query(Change).all()}
            assert "new" in kinds  # the new scar is recorded as a change ...
            assert s.query(Alert).count() == 0  # ... but nothing is alerted
        runs = sorted(registry.runs("chosica"), key=lambda r: r.acquisition_date or "")
        assert [r.stats["model_baseline"] for r in runs] == [False, True]
    _, table, _ = run_cli("monitor", "history", "chosica", "--home", str(home))
    (line,) = [t for t in table.splitlines() if "2023-03-06" in t]
    assert "new model: its baseline, no alerts" in line and "[model other" in line


def test_only_another_recorded_model_makes_a_baseline() -> None:
    def before(digest: str | None) -> PreviousRun:
        return PreviousRun(1, "2023-03-01", "/a/landslides.tif", None, digest)

    assert model_changed(before("a" * 64), "b" * 64)
    assert not model_changed(before("b" * 64), "b" * 64)
    assert not model_changed(before(None), "b" * 64)  # a run that recorded no model
    assert not model_changed(None, "b" * 64)  # the first run is a baseline anyway
