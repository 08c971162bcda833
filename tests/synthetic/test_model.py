"""The hand-set model: a real model file whose mask, on every engine, is the synthetic
scenes' scar mask, and whose probabilities are the stated formula's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slidewatch.bands import raw_to_l4s
from slidewatch.inference.engine import load_engine
from slidewatch.models.modelfile import read_spec
from slidewatch.synthetic import area_bands
from slidewatch.synthetic.model import BANDS, threshold_logit


@pytest.mark.parametrize("engine", ["torch", "onnx"])
@pytest.mark.parametrize("seed", [0, 3])
def test_the_mask_is_the_scar_mask_and_the_probability_the_formula(
    threshold_model: Path, engine: str, seed: int
) -> None:
    bands, _, scars = area_bands(96, 96, seed)
    raw = np.stack([bands[b] for b in BANDS]).astype(np.float32)
    probability = load_engine(threshold_model, engine).predict(raw_to_l4s(raw, BANDS)[None])
    probability = probability.reshape(scars.shape)
    assert scars.any() and not scars.all()
    assert np.array_equal(probability > 0.5, scars)
    expected = 1 / (1 + np.exp(-threshold_logit(raw)))
    np.testing.assert_allclose(probability, expected, atol=1e-5)
    # far from the threshold everywhere: no processor's rounding can flip a pixel
    assert float(np.abs(probability - 0.5).min()) > 0.2


def test_every_cover_clears_the_threshold_even_under_the_worst_sensor_noise() -> None:
    from slidewatch.synthetic.area import SPECTRA
    from slidewatch.synthetic.model import RAW_WEIGHTS

    s2 = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12")
    for cover, spectrum in SPECTRA.items():
        raw = np.array([spectrum[s2.index(b)] for b in BANDS], float)
        scar = cover == "soil"
        # ±3 % per band, each band pushed toward the wrong side of the threshold
        toward_zero = np.where((np.array(RAW_WEIGHTS) > 0) == scar, 0.97, 1.03)
        for light in (0.45, 1.25):  # the terrain's shading, darkest to brightest
            logit = threshold_logit((raw * toward_zero * light)[:, None, None]).item()
            assert (logit > 0) == scar, (cover, logit)


def test_it_is_an_ordinary_model_file(threshold_model: Path) -> None:
    spec = read_spec(threshold_model)
    assert (spec.architecture, spec.bands, spec.threshold) == ("unet", BANDS, 0.5)
    assert spec.band_stats is not None and "by hand" in spec.training["data"]
    assert {p.name for p in threshold_model.iterdir()} >= {
        "model.json", "model.safetensors", "model.onnx"}  # fmt: skip
