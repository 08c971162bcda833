"""Predictor: normalisation inside, probabilities out, clear errors on wrong input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from slidewatch.errors import ConfigError, ModelError
from slidewatch.models.modelfile import load_model
from slidewatch.models.predictor import Predictor

from .conftest import SIX, l4s_batch


def test_exposes_the_model_description(tiny_model_dir: Path) -> None:
    predictor = Predictor(tiny_model_dir)
    assert predictor.bands == SIX
    assert predictor.threshold == 0.4
    assert predictor.patch_size == 64
    assert predictor.spec.architecture == "unet"


def test_predict_applies_the_stored_normalisation(tiny_model_dir: Path) -> None:
    batch = l4s_batch(3, 6, 64, 64)
    probs = Predictor(tiny_model_dir).predict(batch)
    assert probs.shape == (3, 64, 64) and probs.dtype == np.float32
    model, spec = load_model(tiny_model_dir)
    normalized = spec.normalization.apply(batch, channel_axis=1)
    with torch.no_grad():
        expected = torch.sigmoid(model(torch.from_numpy(normalized)))[:, 0].numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert probs.min() >= 0.0 and probs.max() <= 1.0


def test_any_patch_size_is_padded_and_cropped(tiny_model_dir: Path) -> None:
    batch = l4s_batch(1, 6, 50, 70, seed=3)
    probs = Predictor(tiny_model_dir).predict(batch)
    assert probs.shape == (1, 50, 70)
    assert np.isfinite(probs).all()


def test_wrong_band_count_names_the_bands(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"holds 14 bands but the model expects 6 \(B2, B3, B4"):
        Predictor(tiny_model_dir).predict(l4s_batch(1, 14, 64, 64))


def test_wrong_rank(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"N×C×H×W numpy array, got \(6, 64, 64\)"):
        Predictor(tiny_model_dir).predict(l4s_batch(1, 6, 64, 64)[0])


def test_predicts_real_l4s_patches(tiny_model_dir: Path, shared_data: Path) -> None:
    from slidewatch.bands import band_indices
    from slidewatch.data.hdf5 import read_image

    files = sorted((shared_data / "l4s-real" / "img").glob("image_*.h5"))[:2]
    assert files, "the real L4S folder holds no image_*.h5"
    predictor = Predictor(tiny_model_dir)
    idx = band_indices(predictor.bands)
    batch = np.stack([read_image(f, idx).transpose(2, 0, 1) for f in files])
    probs = predictor.predict(batch)
    assert probs.shape == (len(files), 128, 128)
    assert np.isfinite(probs).all() and probs.std() > 0


@pytest.mark.parametrize(
    ("device", "message"),
    [("gpu", "unknown device 'gpu'"), ("cuda:7", "device 'cuda:7' is not available")],
)
def test_unusable_device_is_a_config_error(tiny_model_dir: Path, device: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Predictor(tiny_model_dir, device=device)
