"""The model store: immutable named versions with an MLM STAC item, checked offline by the
ML Model extension's own models (stac-model) and pystac's MLM extension."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.models.conftest import save_tiny_model

from slidewatch.cli import cli
from slidewatch.errors import ConfigError, ModelError
from slidewatch.models.identity import model_hash
from slidewatch.models.mlm_item import ITEM_FILE, benchmark_f1, write_model_item
from slidewatch.models.store import ModelStore


def _valid_mlm(item: dict) -> None:
    import pystac
    from pystac.extensions.mlm import MLMExtension
    from stac_model.schema import MLModelProperties

    props = MLModelProperties.model_validate(item["properties"])  # raises when invalid
    assert props.name and props.architecture == "unet"
    assert {str(t) for t in props.tasks} == {"semantic-segmentation"}
    parsed = pystac.Item.from_dict(item)
    assert MLMExtension.has_extension(parsed)
    ext = MLMExtension.ext(parsed)
    assert ext.architecture == "unet" and ext.input[0].bands == list(props.input[0].bands)
    assert any("mlm:model" in (a.roles or []) for a in parsed.assets.values())


def test_add_stores_an_immutable_version_with_a_valid_item(tmp_path: Path) -> None:
    source = tmp_path / "run" / "model"
    spec = save_tiny_model(source)
    store = ModelStore(tmp_path / "models")
    version, added = store.add(source, "peru-1")
    assert added and version.hash == model_hash(source) == model_hash(version.path)
    assert version.bands == spec.bands
    item = json.loads((version.path / ITEM_FILE).read_text())
    _valid_mlm(item)
    props = item["properties"]
    model_input = props["mlm:input"][0]
    assert model_input["bands"] == list(spec.bands)
    assert model_input["input"]["shape"] == [-1, 6, 64, 64]
    assert len(model_input["value_scaling"]) == 6  # one per band, the spec's list form
    assert model_input["value_scaling"][0] == {"type": "min-max", "minimum": 0.0, "maximum": 2.0}
    assert props["mlm:output"][0]["classification:classes"][1]["name"] == "landslide"
    assert props["mlm:total_parameters"] > 1000 and props["mlm:framework"] == "pytorch"
    assert props["slidewatch:model_hash"] == version.hash
    # immutable: same files again is a no-op; other files or a second name are refused
    assert store.add(source, "peru-1") == (version, False)
    with pytest.raises(ConfigError, match="already stored as 'peru-1'"):
        store.add(source, "peru-2")
    other = tmp_path / "other"
    save_tiny_model(other, seed=3)
    with pytest.raises(ConfigError, match="is taken by version"):
        store.add(other, "peru-1")
    assert not os.access(version.path / "model.safetensors", os.W_OK) or os.geteuid() == 0
    os.chmod(version.path / "model.json", 0o644)
    (version.path / "model.json").write_text((version.path / "model.json").read_text() + " ")
    with pytest.raises(ModelError, match="versions are immutable"):
        store.get("peru-1")


def test_names_are_checked_and_unknown_ones_listed(tmp_path: Path) -> None:
    source = tmp_path / "m"
    save_tiny_model(source)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ConfigError, match=r"model name '\.\./x'"):
        store.add(source, "../x")
    store.add(source, "a")
    with pytest.raises(ConfigError, match="valid names: a"):
        store.get("b")


def test_benchmark_scores_go_into_the_item(tmp_path: Path) -> None:
    source = tmp_path / "m"
    save_tiny_model(source)
    store = ModelStore(tmp_path / "models")
    store.add(source, "v1")
    store.record_benchmark("v1", "/bench", {"f1": 0.42, "precision": 0.5})
    assert store.get("v1").benchmark_f1 == pytest.approx(0.42)
    item = json.loads((tmp_path / "models" / "v1" / ITEM_FILE).read_text())
    assert benchmark_f1(item, "/bench") == pytest.approx(0.42)
    _valid_mlm(item)
    store.set_benchmark(tmp_path / "b", None)
    store.set_benchmark(tmp_path / "c", "peru")
    assert store.benchmark_for("peru") == (tmp_path / "c").resolve()
    assert store.benchmark_for("other") == (tmp_path / "b").resolve()


def test_export_writes_the_item_beside_any_model_directory(tmp_path: Path) -> None:
    source = tmp_path / "run" / "model"
    save_tiny_model(source)
    path = write_model_item(source)
    item = json.loads(path.read_text())
    _valid_mlm(item)
    assert item["id"].startswith("model-") and path.parent == source
    assert model_hash(source) == item["properties"]["slidewatch:model_hash"]  # hash unchanged
    from pydantic import ValidationError

    broken = {**item, "properties": {**item["properties"], "mlm:input": [{"name": "x"}]}}
    with pytest.raises(ValidationError):  # the check can fail
        _valid_mlm(broken)


def test_models_cli_add_and_list(tmp_path: Path) -> None:
    source = tmp_path / "run" / "model"
    save_tiny_model(source)
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    empty = runner.invoke(cli, ["models", "list", *home])
    assert "no model versions" in empty.output
    added = runner.invoke(cli, ["models", "add", str(source), "--name", "v1", *home])
    assert added.exit_code == 0 and added.output.startswith("added v1 (")
    again = runner.invoke(cli, ["models", "add", str(source), "--name", "v1", *home])
    assert "already stored" in again.output
    listed = runner.invoke(cli, ["models", "list", "--json", *home])
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["v1"] and rows[0]["hash"] == model_hash(source)
    bad = runner.invoke(cli, ["models", "add", str(tmp_path / "none"), "--name", "v2", *home])
    assert bad.exit_code == 2 and "no such model directory" in bad.output
    assert "Traceback" not in bad.output
