"""The data contract in ``detect``: swapped bands and scale mistakes warn (or stop with
``--strict``), a correct scene raises nothing; warnings reach the CLI and summary.json."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slidewatch.bands import BAND_SETS, l4s_to_raw
from slidewatch.cli import cli
from slidewatch.data.contract import DataContractWarning, band_stats
from slidewatch.errors import DataContractError
from slidewatch.inference.detect import detect
from slidewatch.synthetic import make_patch

from .conftest import write_scene

RGBN = BAND_SETS["rgbn"]
RGBN_IDX = [3, 2, 1, 7]  # B4, B3, B2, B8 among the 14 generated bands
RUN = {"tile": 64, "overlap": 16, "progress": False}


def rgbn_pixels(seed: int, size: int) -> np.ndarray:
    """C×H×W L4S-scale B4, B3, B2, B8 of a generated patch."""
    image, _ = make_patch(np.random.default_rng(seed), size)
    return np.moveaxis(image[..., RGBN_IDX], -1, 0)


@pytest.fixture(scope="module")
def contract_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 4-band unet whose model file carries training band statistics."""
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    samples = np.concatenate([rgbn_pixels(s, 64).reshape(4, -1) for s in range(4)], axis=1)
    spec = ModelSpec(
        "unet", {"base_width": 8}, RGBN, Normalization.identity(RGBN), patch_size=64,
        band_stats=band_stats(samples, RGBN),
    )  # fmt: skip
    return save_model(tmp_path_factory.mktemp("model"), build_model("unet", 4, base_width=8), spec)


@pytest.fixture(scope="module")
def raw_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scene of raw digital numbers, bands B4, B3, B2, B8 described in the file."""
    raw = l4s_to_raw(rgbn_pixels(7, 128), RGBN)
    return write_scene(tmp_path_factory.mktemp("scene") / "raw.tif", raw)


@pytest.fixture(scope="module")
def undescribed_scene(raw_scene: Path) -> Path:
    """The same values without band descriptions (the user names them with --band-order)."""
    import rasterio

    with rasterio.open(raw_scene) as ds:
        data = ds.read()
    return write_scene(raw_scene.with_name("undescribed.tif"), data, bands=None)


def test_a_correct_scene_raises_nothing(
    raw_scene: Path, contract_model: Path, tmp_path: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataContractWarning)
        summary = detect(raw_scene, contract_model, tmp_path, strict=True, **RUN)
    contract = summary["data_contract"]
    assert contract["checked"] and contract["ok"] and contract["warnings"] == []
    assert contract["basis"] == "training statistics"
    assert contract["found"]["bands"] == list(RGBN) and contract["found"]["pixels"] > 1000


def test_swapped_band_order_warns_in_cli_output_and_summary(
    undescribed_scene: Path, contract_model: Path, tmp_path: Path
) -> None:
    args = ["detect", str(undescribed_scene), "--model", str(contract_model), "--out",
            str(tmp_path), "--tile-px", "64", "--quiet", "--band-order", "B2,B3,B4,B8"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("Warning: ")]
    assert len(warned) == 2 and "look swapped" in warned[0]
    assert "1 data-contract warning(s) above" in warned[1]
    assert "B2 > B4 in 100% of the training pixels but 0% of these" in warned[0]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert not summary["data_contract"]["ok"] and summary["options"]["strict"] is False
    assert {"B2", "B4"} <= set(summary["data_contract"]["bands"])
    assert summary["data_contract"]["warnings"][0] in warned[0]


def test_raw_values_with_scale_none_warn(
    raw_scene: Path, contract_model: Path, tmp_path: Path
) -> None:
    with pytest.warns(DataContractWarning) as caught:
        summary = detect(raw_scene, contract_model, tmp_path, scale="none", **RUN)
    messages = [str(w.message) for w in caught if w.category is DataContractWarning]
    assert len(messages) == 4 and all("larger than in training" in m for m in messages)
    assert "band B4 (L4S scale, p2-p98): expected" in messages[0]
    assert summary["data_contract"]["bands"] == ["B2", "B3", "B4", "B8"]
    with pytest.raises(DataContractError, match="raw values read as L4S"):
        detect(raw_scene, contract_model, tmp_path / "strict", scale="none", strict=True, **RUN)
    assert not (tmp_path / "strict").exists()  # stopped before writing anything


def test_strict_cli_exits_2_with_the_message(
    raw_scene: Path, contract_model: Path, tmp_path: Path
) -> None:
    args = ["detect", str(raw_scene), "--model", str(contract_model), "--out", str(tmp_path),
            "--scale", "none", "--strict", "--quiet"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.startswith("Error: ")
    assert "do not look like the model's training data" in result.output
    assert "band B8 (L4S scale, p2-p98): expected" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_model_files_without_statistics_are_checked_on_their_normalisation(
    raw_scene: Path, tiny_model: Path, tmp_path: Path
) -> None:
    summary = detect(raw_scene, tiny_model, tmp_path, **RUN)  # identity normalisation
    assert summary["data_contract"]["checked"] is False
