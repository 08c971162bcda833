"""A model trained on the spot goes through monitoring end to end. Its outlines hang on the
processor's floating-point kernels, so only what holds with a wide margin is asserted: the
looks finish, the products are valid, and the outlines cover the scars (on the machine
where this was written: recall 1.0, IoU 0.55, mean probability 1.0 on scars, 0.2 elsewhere).
The monitoring logic itself is tested with the hand-set ``threshold_model``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rio_cogeo.cogeo import cog_validate
from tests.monitoring.cli_runner import run_cli
from tests.monitoring.model import scar_scores
from tests.monitoring.test_end_to_end import add_args

from slidewatch.monitoring.look.run import STACK_FILES
from slidewatch.monitoring.registry import Registry


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small U-Net trained on a synthetic area, with its ONNX graph exported."""
    from tests.monitoring.model import train_small_model

    return train_small_model(tmp_path_factory.mktemp("model"))


def test_a_trained_model_looks_twice_and_finds_the_scars(
    tmp_path: Path, small_model: Path, example: Any
) -> None:
    home = tmp_path / "home"
    run_cli(*add_args("trained", example, small_model, home))
    for now, date in (
        ("2023-03-03T00:00:00Z", "2023-03-01"),
        ("2023-03-09T00:00:00Z", "2023-03-06"),
    ):
        _, out, heavy = run_cli("monitor", "run-once", "--now", now, "--home", str(home))
        assert f"{date} done" in " ".join(out.split()) and heavy == []
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        runs = registry.runs("trained")
        assert sorted((r.acquisition_date, r.state) for r in runs) == [
            ("2023-03-01", "done"), ("2023-03-06", "done")]  # fmt: skip
        first = min(runs, key=lambda r: r.acquisition_date or "").products
    tifs = sorted((home / "archive").rglob("*.tif"))
    rasters = [r for r in tifs if r.name not in STACK_FILES]  # the stack: kept, not a product
    names = {r.name for r in rasters}  # each look archives the same products
    assert {"change.tif", "landslides.tif", "probability.tif", "rgb.tif"} <= names
    assert len(rasters) == 2 * len(names) and all(cog_validate(str(r))[0] for r in rasters)
    scores = scar_scores(first)
    assert scores.recall > 0.5 and scores.iou > 0.2, scores
    assert scores.probability_on_scars > scores.probability_elsewhere + 0.3, scores


def test_the_threshold_model_outlines_exactly_the_scars(
    tmp_path: Path, threshold_model: Path, example: Any
) -> None:
    home = tmp_path / "home"
    run_cli(*add_args("exact", example, threshold_model, home))
    run_cli("monitor", "run-once", "--now", "2023-03-03T00:00:00Z", "--home", str(home))
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        (run,) = registry.runs("exact")
    scores = scar_scores(run.products)
    assert (scores.iou, scores.recall, scores.precision) == (1.0, 1.0, 1.0)
    assert scores.probability_on_scars > 0.9 > 0.001 > scores.probability_elsewhere
