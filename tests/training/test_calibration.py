"""Issue 21, item 3: ``evaluate --calibrate`` chooses the threshold on the validation split
and reports the scores on patches it was not chosen on, saying which was which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.training.calibration import (
    HIST_BINS,
    PatchHistogram,
    best_threshold,
    fold_thresholds,
)
from slidewatch.training.train import train

from .conftest import tiny_config


def calibrate(model: Path, data: Path) -> tuple[dict, str]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, [
        "evaluate", "--model", str(model), "--data", str(data), "--calibrate", "--quiet",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), " ".join(result.stderr.split())


def test_without_a_test_split_the_report_is_cross_validated(
    trained: Path, flat_data: Path, tmp_path: Path
) -> None:
    shutil.copytree(trained.parent, tmp_path / "run")
    out, said = calibrate(tmp_path / "run" / "model", flat_data)
    c = out["calibration"]
    assert c["chosen_on"]["patches"] == 2
    assert c["chosen_on"]["what"] == f"the val split of {tmp_path / 'run' / 'split.json'}"
    assert c["reported_on"]["patches"] == 2
    assert c["reported_on"]["method"].startswith("2-fold cross-validation for the 2 patches")
    assert f"threshold {c['threshold']:g} chosen on 2 patches" in said
    assert "in-sample); scores below reported on 2 patches: 2-fold cross-validation" in said
    # both scores are a trained model's numbers: how they compare is its processor's business
    assert 0.0 <= out["pixel"]["f1"] <= 1.0 and 0.0 <= c["chosen_on"]["in_sample_f1"] <= 1.0


def test_a_labelled_test_split_is_where_the_report_goes(
    official_data: Path, tmp_path: Path
) -> None:
    model = train(tiny_config(official_data, tmp_path / "run", split="official"), progress=False)
    out, said = calibrate(model, official_data)
    c = out["calibration"]
    assert c["chosen_on"]["what"] == f"the val split of {tmp_path / 'run' / 'split.json'}"
    assert c["reported_on"]["what"] == "the official test split of the layout"
    assert c["reported_on"]["method"].startswith("a separate set")
    assert out["split"] == "test" and out["n_patches"] == c["reported_on"]["patches"]
    assert "reported on" in said and "official test split" in said


def test_each_fold_is_scored_with_a_threshold_chosen_without_it() -> None:
    def hist(bin_pos: int) -> PatchHistogram:
        pos, neg = np.zeros(HIST_BINS, np.int64), np.zeros(HIST_BINS, np.int64)
        pos[bin_pos], neg[bin_pos - 50] = 10, 10  # landslides at bin_pos, background below
        return PatchHistogram(pos, neg)

    hists = {"a/1": hist(900), "a/2": hist(200)}
    alone = {k: best_threshold(h.positive, h.negative)[0] for k, h in hists.items()}
    assert alone["a/1"] > 0.85 and alone["a/2"] < 0.25
    by_fold = fold_thresholds(hists)
    assert by_fold == {"a/1": pytest.approx(alone["a/2"]), "a/2": pytest.approx(alone["a/1"])}
    assert fold_thresholds({"a/1": hist(900)}) == {}  # one patch: nothing to cross-validate


def test_another_source_is_reported_on_while_choosing_on_the_runs_own_split(
    trained: Path, tmp_path: Path
) -> None:
    from slidewatch.synthetic import make_l4s_dataset

    shutil.copytree(trained.parent, tmp_path / "run")
    other = make_l4s_dataset(tmp_path / "other", n=4, size=128, seed=12).root
    out, _ = calibrate(tmp_path / "run" / "model", other)
    c = out["calibration"]
    assert c["chosen_on"]["patches"] == 2  # the run's own validation split, from its data
    assert c["reported_on"] == {"patches": 4, "what": out["scored"],
                                "method": c["reported_on"]["method"]}  # fmt: skip
    assert c["reported_on"]["method"].startswith("a separate set")
