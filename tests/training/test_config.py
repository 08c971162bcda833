from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slidewatch.errors import BandError, ConfigError
from slidewatch.training.config import TrainConfig, field_names


def test_defaults_are_the_papers_protocol() -> None:
    c = TrainConfig()
    assert (c.arch, c.bands, c.loss, c.alpha) == ("unet", "all14", "wce-dice", 0.5)
    assert (c.epochs, c.batch_size, c.lr, c.lr_step_epochs, c.lr_gamma) == (100, 16, 1e-3, 30, 0.1)
    assert (c.patience, c.split, c.val_fraction, c.seed) == (10, "random", 0.2, 42)
    assert c.normalization == "minmax" and c.logger == "csv" and c.beta == "auto"


def test_yaml_round_trip(tmp_path: Path) -> None:
    c = TrainConfig(
        data=("a", "b"),
        arch="segformer",
        arch_options={"encoder_name": "mit_b1"},
        bands=["B4", "B3"],
        beta=3.5,
        epochs=7,
        augment=True,
    )
    path = c.to_yaml(tmp_path / "c.yaml")
    back = TrainConfig.from_yaml(path)
    assert back == c
    assert back.bands == "B4,B3" and back.band_names == ("B4", "B3")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_unknown_key_lists_the_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"epochs": 3, "learning_rate": 0.1}))
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_yaml(path)
    message = str(err.value)
    assert "learning_rate" in message and str(path) in message
    assert all(name in message for name in field_names())


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "focal"},
        {"beta": "lots"},
        {"beta": -1.0},
        {"alpha": 1.5},
        {"epochs": 0},
        {"normalization": "zscore"},
        {"logger": "neptune"},
        {"split": "by-region"},
        {"threshold": 1.0},
    ],
)
def test_bad_values_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(options)


def test_bad_band_set_is_a_band_error() -> None:
    with pytest.raises(BandError, match="six20m"):
        TrainConfig(bands="six20m")


def test_replace_ignores_none_and_rejects_unknown_keys() -> None:
    c = TrainConfig().replace(epochs=5, arch=None)
    assert c.epochs == 5 and c.arch == "unet"
    with pytest.raises(ConfigError, match="epoch"):
        TrainConfig().replace(epoch=5)


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("epochs: [1,\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        TrainConfig.from_yaml(path)
