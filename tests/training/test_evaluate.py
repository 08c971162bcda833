from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from slidewatch.data.hdf5 import read_mask
from slidewatch.data.layout import discover
from slidewatch.errors import BandError, DatasetError
from slidewatch.metrics import confusion_counts, scores_from_counts
from slidewatch.models.modelfile import load_model, read_spec, save_model
from slidewatch.rgb import rgb_composite
from slidewatch.synthetic import make_l4s_dataset
from slidewatch.training.evaluate import best_threshold, evaluate


def test_metrics_json_predictions_and_figure(
    tmp_path: Path, trained: Path, flat_data: Path
) -> None:
    out, preds, fig = tmp_path / "m.json", tmp_path / "pred", tmp_path / "fig.png"
    result = evaluate(
        trained,
        [flat_data],
        split="all",
        out=out,
        predictions_dir=preds,
        figure=fig,
        progress=False,
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result["n_patches"] == 10 and result["split"] == "all"
    assert set(result["pixel"]) == {"precision", "recall", "f1", "iou"}
    assert set(result["losses"]) == {"dice_wce", "wce", "dice"}
    # Anyone can recompute the pixel-summed metrics from the saved probabilities.
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for ref in discover(flat_data):
        prob = np.load(preds / ref.source / f"{ref.id}.npy")
        assert prob.shape == (128, 128) and prob.dtype == np.float32
        for k, v in confusion_counts(prob >= result["threshold"], read_mask(ref.mask)).items():
            counts[k] += v
    assert counts == result["counts"]
    assert scores_from_counts(counts)["f1"] == pytest.approx(result["pixel"]["f1"])
    with Image.open(fig) as image:
        assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 300


def test_val_split_is_the_runs_validation_split(trained: Path, flat_data: Path) -> None:
    result = evaluate(trained, [flat_data], split="val", progress=False)
    assert result["n_patches"] == 2
    # The validation loss matches the one Lightning logged for the best epoch.
    logged = read_spec(trained).metrics
    assert result["losses"]["dice_wce"] == pytest.approx(logged["loss"], rel=1e-3)
    assert result["losses"]["dice"] == pytest.approx(logged["dice_loss"], rel=1e-3)


def test_default_split_is_the_runs_validation_split(trained: Path, flat_data: Path) -> None:
    result = evaluate(trained, [flat_data], progress=False)
    own_val = json.loads((trained.parent / "split.json").read_text())["val"]
    assert result["split"] == "val" and result["patches"] == own_val
    assert "validation split of the model's run" in result["scored"]
    assert result["training_patches_scored"] == 0
    everything = evaluate(trained, [flat_data], split="all", progress=False)
    assert everything["training_patches_scored"] == 8 and everything["n_patches"] == 10


def test_losses_do_not_depend_on_the_batch_size(trained: Path, flat_data: Path) -> None:
    # 10 patches in batches of 1, 3 (uneven: 3+3+3+1) and 16 (one batch).
    losses = [
        evaluate(trained, [flat_data], split="all", batch_size=b, progress=False)["losses"]
        for b in (1, 3, 16)
    ]
    for key in ("dice_wce", "wce", "dice"):
        assert losses[0][key] == pytest.approx(losses[1][key], rel=1e-9, abs=1e-12), key
        assert losses[0][key] == pytest.approx(losses[2][key], rel=1e-9, abs=1e-12), key
    assert 0.0 < losses[0]["dice"] < 1.0


def test_calibration_stores_the_f1_optimal_threshold(
    tmp_path: Path, trained: Path, flat_data: Path
) -> None:
    model = tmp_path / "run" / "model"
    shutil.copytree(trained.parent, tmp_path / "run")
    result = evaluate(model, [flat_data], split="val", calibrate=True, progress=False)
    calibrated = read_spec(model).threshold
    assert calibrated == result["threshold"] == result["calibration"]["threshold"]
    assert read_spec(model).metrics["calibration"]["previous_threshold"] == 0.5
    # No other threshold on the validation split gives a higher F1 (there, in-sample).
    in_sample = result["calibration"]["chosen_on"]["in_sample_f1"]
    for t in (0.05, 0.2, 0.5, 0.8):
        net, spec = load_model(model)
        save_model(model, net, dataclasses.replace(spec, threshold=t))
        other = evaluate(model, [flat_data], split="val", progress=False)
        assert other["pixel"]["f1"] <= in_sample + 1e-9


def test_best_threshold_from_histograms() -> None:
    pos = np.zeros(10, np.int64)
    neg = np.zeros(10, np.int64)
    pos[[6, 7]] = [3, 5]  # positives at p in [0.6, 0.8)
    neg[[2, 6]] = [50, 1]  # one negative at 0.6
    threshold, f1 = best_threshold(pos, neg)
    # t in [0.3, 0.6]: tp 8, fp 1 -> F1 16/17 (ties: closest to 0.5); t = 0.7: 10/13.
    assert threshold == pytest.approx(0.5) and f1 == pytest.approx(16 / 17)
    neg[4] = 2  # now only t in [0.5, 0.6] reach 16/17; below 0.5: fp 3
    assert best_threshold(pos, neg)[0] == pytest.approx(0.5)
    neg[5] = 2
    assert best_threshold(pos, neg) == (pytest.approx(0.6), pytest.approx(16 / 17))


def test_band_mismatch_is_a_clear_error(tmp_path: Path, trained: Path) -> None:
    rgb = tmp_path / "rgb"
    make_l4s_dataset(rgb, n=2, bands="rgb")
    with pytest.raises(BandError) as err:
        evaluate(trained, [rgb], progress=False)
    message = str(err.value)
    assert "B8" in message and str(trained) in message and "holds B4, B3, B2" in message


def test_rgb_composite_uses_b4_b3_b2_or_the_first_three() -> None:
    image = np.stack([np.full((4, 4), v, np.float32) for v in range(5)])
    image[:, 0, 0] = 100  # one bright pixel per band
    bands = ("B2", "B3", "B4", "B8", "dem")
    rgb = rgb_composite(image, bands)
    assert rgb.shape == (4, 4, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0, 0].tolist() == [1.0, 1.0, 1.0] and rgb[1, 1].tolist() == [0.0, 0.0, 0.0]
    two = rgb_composite(image[:2], ("slope", "dem"))
    assert two.shape == (4, 4, 3)


def test_split_file_and_official_splits(
    trained: Path, flat_data: Path, official_data: Path
) -> None:
    split_file = trained.parent / "split.json"
    assert evaluate(trained, [flat_data], split=str(split_file), progress=False)["n_patches"] == 2
    assert evaluate(trained, [flat_data], split="train", progress=False)["n_patches"] == 8
    test = evaluate(trained, [official_data], split="test", progress=False)
    assert test["n_patches"] == 2
    with pytest.raises(DatasetError, match="no patches in split 'test'"):
        evaluate(trained, [flat_data], split="test", progress=False)


def test_evaluate_engines_agree_and_the_cli_takes_engine_and_device(
    trained: Path, flat_data: Path
) -> None:
    from click.testing import CliRunner

    from slidewatch.cli import cli

    by_torch = evaluate(trained, [flat_data], split="val", progress=False, engine="torch")
    by_onnx = evaluate(trained, [flat_data], split="val", progress=False, engine="onnx")
    assert (by_torch["engine"], by_onnx["engine"]) == ("torch", "onnx")
    assert by_onnx["pixel"]["f1"] == pytest.approx(by_torch["pixel"]["f1"], abs=1e-3)
    args = ["evaluate", "--model", str(trained), "--data", str(flat_data), "--split", "val"]
    result = CliRunner().invoke(cli, [*args, "--device", "cpu", "--engine", "onnx", "--quiet"])
    assert result.exit_code == 0, result.output
    assert '"engine": "onnx"' in result.output
    result = CliRunner().invoke(cli, [*args, "--engine", "tensorrt"])
    assert (
        result.exit_code == 2
        and "'tensorrt' is not one of 'auto', 'onnx', 'torch'" in result.output
    )
