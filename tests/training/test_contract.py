"""The data contract in training and ``evaluate``: statistics saved with the model, raw
patches warn (or stop with ``--strict``), the model's own kind of data raises nothing."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

from slidewatch.bands import BAND_NAMES, l4s_to_raw
from slidewatch.cli import cli
from slidewatch.data.contract import DataContractWarning
from slidewatch.models.modelfile import SPEC_FILE, read_spec
from slidewatch.synthetic import make_l4s_dataset
from slidewatch.training.evaluate import evaluate


@pytest.fixture(scope="module")
def raw_patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Labelled patches holding raw values (digital numbers, degrees, metres), not L4S."""
    root = tmp_path_factory.mktemp("raw") / "gen"
    make_l4s_dataset(root, n=3, seed=5)
    for path in root.rglob("image_*.h5"):
        with h5py.File(path, "r+") as f:
            f["img"][...] = l4s_to_raw(f["img"][()], BAND_NAMES, axis=-1)
    return root


def test_training_stores_band_statistics(trained: Path) -> None:
    stats = read_spec(trained).band_stats
    assert stats is not None and stats.bands == read_spec(trained).bands
    assert stats.pixels > 1000 and not stats.approximate
    assert 0.3 < stats.quantiles[0][2] < 2.0  # B2's median on the L4S scale


def test_model_files_without_statistics_still_load(trained: Path, tmp_path: Path) -> None:
    old = shutil.copytree(trained, tmp_path / "old")
    doc = json.loads((old / SPEC_FILE).read_text())
    del doc["band_stats"]  # as written by slidewatch 0.1
    (old / SPEC_FILE).write_text(json.dumps(doc))
    assert read_spec(old).band_stats is None


def test_evaluate_on_the_models_kind_of_data_raises_nothing(trained: Path, flat_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataContractWarning)
        result = evaluate(trained, [flat_data], split="val", progress=False, strict=True)
    assert result["data_contract"]["ok"] and result["data_contract"]["checked"]


def test_evaluate_on_raw_patches_warns_and_strict_stops(
    trained: Path, raw_patches: Path, tmp_path: Path
) -> None:
    with pytest.warns(DataContractWarning) as caught:
        result = evaluate(trained, [raw_patches], progress=False)
    assert any("larger than in training" in str(w.message) for w in caught)
    assert not result["data_contract"]["ok"]
    assert "dem" in result["data_contract"]["bands"]
    args = ["evaluate", "--model", str(trained), "--data", str(raw_patches), "--quiet"]
    out = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "m.json")])
    assert out.exit_code == 0, out.output
    assert "Warning: " in out.output and "band B2 (L4S scale, p2-p98)" in out.output
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["data_contract"]["warnings"] == result["data_contract"]["warnings"]
    strict = CliRunner().invoke(cli, [*args, "--strict"])
    assert strict.exit_code == 2
    assert "Error: " in strict.output and "do not look like the model's training" in strict.output
