"""Issue 21, item 6: a model whose bands the scene lacks. When every scene band is named
(by --band-order or by descriptions), say which bands are missing and that a model trained
on the scene's bands is needed, never to name the bands with --band-order again."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.bands import BAND_NAMES
from slidewatch.cli import cli
from slidewatch.errors import BandError
from slidewatch.scene import open_scene

from .conftest import scene_array, write_scene


@pytest.fixture(scope="module")
def all14_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    spec = ModelSpec(
        "unet", {"base_width": 4}, BAND_NAMES, Normalization.identity(BAND_NAMES), 0.5, 64
    )
    model = build_model("unet", len(BAND_NAMES), base_width=4)
    return save_model(tmp_path_factory.mktemp("all14"), model, spec)


def test_detect_with_band_order_names_the_missing_bands_and_the_model_to_train(
    all14_model: Path, tmp_path: Path
) -> None:
    scene = write_scene(tmp_path / "rgbn.tif", scene_array(64, 64), None)
    result = CliRunner().invoke(cli, [
        "detect", str(scene), "--model", str(all14_model), "--band-order", "B04,B03,B02,B08",
        "--out", str(tmp_path / "out"), "--quiet", "--device", "cpu",
    ])  # fmt: skip
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "missing: B1, B5, B6, B7, B9, B10, B11, B12, slope, dem" in text
    assert "holds B4, B3, B2, B8 (named by --band-order" in text
    assert "a model trained on the scene's bands (slidewatch train ... --bands rgbn)" in text
    assert "with --band-order" not in text and "give --band-order" not in text
    assert not (tmp_path / "out").exists()


def test_descriptions_that_name_every_band_get_the_same_advice(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "s.tif", scene_array(32, 32, 3), ("red", "green", "blue"))
    with pytest.raises(BandError) as caught:
        open_scene([path], ("B4", "B3", "B2", "B8"), scale="none")
    message = str(caught.value)
    assert "missing: B8" in message and "--bands rgb)" in message
    assert "if the band descriptions are wrong, name the bands with --band-order" in message


def test_unnamed_bands_still_ask_for_band_order(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "s.tif", scene_array(32, 32), None)
    with pytest.raises(BandError, match="name the scene's bands in file order with --band-order"):
        open_scene([path], ("B4", "B3", "B2", "B8"), scale="none")
