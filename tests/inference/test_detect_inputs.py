"""What detect takes: a folder of tiles like build-patches, and clear words for wrong paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from slidewatch.cli import cli

from .conftest import scene_array, write_scene


def run_detect(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["detect", *args, "--tile-px", "64", "--quiet", "--device", "cpu"]
    )
    return result.exit_code, result.output


def test_a_folder_of_tiles_gives_the_outputs_of_the_whole_scene(
    tiny_model: Path, tmp_path: Path
) -> None:
    data = scene_array(96, 128)
    whole = write_scene(tmp_path / "whole.tif", data, None)
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    for r in (0, 48):
        for c in (0, 64):
            path = write_scene(tiles / f"t{r}_{c}.tif", data[:, r : r + 48, c : c + 64], None)
            with rasterio.open(path, "r+") as ds:
                ds.transform = from_origin(400000.0 + 10 * c, 2500000.0 - 10 * r, 10.0, 10.0)
    common = ["--model", str(tiny_model), "--band-order", "B4,B3,B2,B8", "--scale", "none"]
    code, output = run_detect(str(whole), *common, "--out", str(tmp_path / "a"))
    assert code == 0, output
    code, output = run_detect(str(tiles), *common, "--out", str(tmp_path / "b"))
    assert code == 0, output
    with (
        rasterio.open(tmp_path / "a" / "probability.tif") as a,
        rasterio.open(tmp_path / "b" / "probability.tif") as b,
    ):
        assert (a.transform, a.shape) == (b.transform, b.shape)
        np.testing.assert_array_equal(a.read(1), b.read(1))


def test_wrong_paths_say_what_they_are(tiny_model: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, output = run_detect(str(tmp_path / "empty"), "--model", str(tiny_model), "--out",
                              str(tmp_path / "o"))  # fmt: skip
    assert code == 2 and "is a folder and holds no" in output
    patch = tmp_path / "image_1.h5"
    with h5py.File(patch, "w") as f:
        f["img"] = np.zeros((8, 8, 14), np.float32)
    code, output = run_detect(str(patch), "--model", str(tiny_model), "--out", str(tmp_path / "o"))
    assert code == 2 and "HDF5 file" in output and "gdal_edit" not in output
    assert "Warning" not in output and "NotGeoreferenced" not in output


def test_a_run_folder_as_model_points_to_its_model(tiny_model: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_model, run / "model")
    scene = write_scene(tmp_path / "s.tif", scene_array(64, 64))
    code, output = run_detect(str(scene), "--model", str(run), "--out", str(tmp_path / "o"))
    assert code == 2 and f"--model {run / 'model'}" in output
