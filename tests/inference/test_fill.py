"""Invalid pixels are filled so that they pull their valid neighbours less than zeros do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slidewatch.data.normalization import normalization_from_arrays
from slidewatch.errors import RegistryError
from slidewatch.inference.blending import window_weights
from slidewatch.inference.engine import load_engine
from slidewatch.inference.fill import centre_values, make_filler, nearest_along_rows
from slidewatch.inference.runner import predict_rows
from slidewatch.inference.windows import window_grid
from slidewatch.models.modelfile import ModelSpec
from slidewatch.scene import SceneReader, open_scene

from .conftest import RGBN, scene_array, write_scene


def test_nearest_takes_the_closer_side_and_empty_rows_the_centre() -> None:
    image = np.arange(12, dtype=np.float32).reshape(1, 2, 6)
    valid = np.array([[0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0]], bool)
    out = nearest_along_rows(image, valid, np.array([9.0], np.float32))
    np.testing.assert_array_equal(out[0], [[1, 1, 1, 4, 4, 4], [9, 9, 9, 9, 9, 9]])


def test_centre_is_the_middle_of_the_training_range() -> None:
    norm = normalization_from_arrays("minmax", RGBN, minimum=[0, 1, 2, 3], maximum=[2, 3, 4, 9])
    spec = ModelSpec("unet", {}, RGBN, norm)
    np.testing.assert_allclose(centre_values(spec), [1, 2, 3, 6])
    with pytest.raises(RegistryError, match="valid names: nearest, centre, zero"):
        make_filler(spec, "mean")


def test_default_fill_biases_valid_neighbours_less_than_zeros(
    tmp_path: Path, tiny_model: Path
) -> None:
    data = scene_array(128, 128, seed=3, scar=False)
    holed = data.copy()
    holed[:, 40:80, 50:70] = -9999.0
    clean = write_scene(tmp_path / "clean.tif", data)
    hole = write_scene(tmp_path / "hole.tif", holed, nodata=-9999.0)
    engine = load_engine(tiny_model, "onnx")
    grid, weights = window_grid(128, 128, 64, 16), window_weights(64)

    def run(path: Path, method: str | None) -> np.ndarray:
        fill = make_filler(engine.spec, method) if method else None
        with SceneReader(open_scene([path], RGBN, scale="none")) as reader:
            rows = predict_rows(reader, engine.predict, grid, weights, fill=fill)
            return np.concatenate([p for _, p, _ in rows])

    truth = run(clean, None)
    near = np.zeros((128, 128), bool)
    near[30:90, 40:80] = True
    near[40:80, 50:70] = False  # valid pixels within 10 px of the hole
    bias = {m: float(np.abs(run(hole, m) - truth)[near].mean()) for m in ("zero", "nearest")}
    assert bias["nearest"] < 0.5 * bias["zero"], bias
