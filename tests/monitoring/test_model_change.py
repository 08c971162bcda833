"""The first run after the AOI's model version changed (a promotion): the previous
acquisition's archived stack is detected again with the new model, so that change compares
one model with itself and only the ground's change is alerted; where that stack is not
archived any more, the run is the new model's baseline and alerts nothing. ``monitor
history`` says which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape
from tests.monitoring.cli_runner import run_cli
from tests.monitoring.test_end_to_end import add_args

from slidewatch.models.identity import model_hash
from slidewatch.monitoring.look.results import model_changed
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.records import PreviousRun
from slidewatch.monitoring.registry.tables import Alert, Aoi, Change, Run


@pytest.mark.parametrize("pruned", [False, True], ids=["stack-archived", "stack-pruned"])
def test_after_a_model_change_only_the_ground_change_is_alerted(
    tmp_path: Path, threshold_model: Path, example: Any, pruned: bool
) -> None:
    home = tmp_path / "home"
    run_cli(*add_args("chosica", example, threshold_model, home))
    run_cli("monitor", "run-once", "--now", "2023-03-03T00:00:00Z", "--home", str(home))
    other = tmp_path / "other"  # the same weights, a low threshold: more polygons
    shutil.copytree(threshold_model, other)
    spec = json.loads((other / "model.json").read_text())
    spec["threshold"] = 0.005
    (other / "model.json").write_text(json.dumps(spec))
    assert model_hash(other) != model_hash(threshold_model)
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry, registry.session() as s:
        aoi = s.query(Aoi).one()
        aoi.model_path, aoi.model_hash = str(other), model_hash(other)
        if pruned:
            Path(s.query(Run).one().products["stack.tif"]).unlink()
    _, out, _ = run_cli("monitor", "run-once", "--now", "2023-03-09T00:00:00Z",
                        "--home", str(home))  # fmt: skip
    assert "2023-03-06 done" in " ".join(out.split())
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        with registry.session() as s:
            new = [c for c in s.query(Change).all() if c.kind == "new"]
            at_scar = [shape(c.geometry).intersects(shape(example.new_scar)) for c in new]
            alerts = s.query(Alert).all()
            if pruned:  # compared with the old model's outlines: its extra polygons are "new"
                assert len(new) > 1 and any(at_scar) and not all(at_scar)
                assert alerts == []  # ... so the run is a baseline: recorded, not alerted
            else:  # the new model's extra polygons were there before: only the scar is new
                assert at_scar == [True]
                (alert,) = alerts
                landslide = alert.payload["data"]["landslide"]
                assert shape(landslide["geometry"]).intersects(shape(example.new_scar))
        runs = sorted(registry.runs("chosica"), key=lambda r: r.acquisition_date or "")
        assert [r.stats["model_baseline"] for r in runs] == [False, pruned]
        assert [r.stats["redetected_previous"] for r in runs] == [False, not pruned]
    _, table, _ = run_cli("monitor", "history", "chosica", "--home", str(home))
    line = next(t for t in table.splitlines() if "2023-03-06 done" in " ".join(t.split()))
    assert "[model other" in line
    note = "its baseline, no alerts" if pruned else "previous acquisition detected again"
    assert note in line


def test_only_another_recorded_model_counts_as_a_change() -> None:
    def before(digest: str | None) -> PreviousRun:
        return PreviousRun(1, "2023-03-01", "/a/landslides.tif", None, digest)

    assert model_changed(before("a" * 64), "b" * 64)
    assert not model_changed(before("b" * 64), "b" * 64)
    assert not model_changed(before(None), "b" * 64)  # a run that recorded no model
    assert not model_changed(None, "b" * 64)  # the first run is a baseline anyway
