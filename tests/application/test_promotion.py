"""``models promote``: an AOI switches version only through the gate, or with --force
(recorded); a version reading bands the AOI does not fetch is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from tests.models.conftest import save_tiny_model

from slidewatch.cli import cli
from slidewatch.models.identity import model_hash
from slidewatch.monitoring.registry import Registry

BBOX = "91.84,22.44,91.86,22.46"


def sw(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _rgb_model(folder: Path) -> Path:
    import torch

    from slidewatch.data.normalization import normalization_from_arrays
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    bands = ("B4", "B3", "B5")  # B5: red edge, which the AOI does not fetch
    norm = normalization_from_arrays("minmax", bands, minimum=np.zeros(3), maximum=np.ones(3))
    model = build_model("unet", 3, base_width=8)
    return save_model(folder, model.eval(), ModelSpec("unet", {"base_width": 8}, bands, norm))


def test_promotion_needs_the_gate_or_force_and_matching_bands(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    save_tiny_model(tmp_path / "a")
    save_tiny_model(tmp_path / "b", seed=1)
    sw("models", "add", str(tmp_path / "a"), "--name", "v1", *home)
    sw("models", "add", str(tmp_path / "b"), "--name", "v2", *home)
    store = tmp_path / "home" / "models"
    sw("monitor", "add", "valley", "--aoi", BBOX, "--model", str(store / "v1"), *home)

    unjudged = sw("models", "promote", "v2", "--aoi", "valley", *home, code=2)
    assert "has no benchmark to judge 'v2' on" in unjudged and "--force" in unjudged
    assert not (store / "promotions.jsonl").exists()

    forced = sw("models", "promote", "v2", "--aoi", "valley", "--force", *home)
    assert "AOI valley: v1 → v2" in forced and "forced: recorded" in forced
    with Registry(f"sqlite:///{tmp_path / 'home' / 'registry.db'}") as registry:
        row = registry.get_aoi("valley")
        assert (row.model_hash, row.model_path) == (model_hash(store / "v2"), str(store / "v2"))
    (record,) = [json.loads(x) for x in (store / "promotions.jsonl").read_text().splitlines()]
    assert record["forced"] is True and record["comparison"] is None
    assert record["from"]["name"] == "v1" and record["to"]["name"] == "v2"
    assert "already uses v2" in sw("models", "promote", "v2", "--aoi", "valley", *home)

    _rgb_model(tmp_path / "rgb")
    sw("models", "add", str(tmp_path / "rgb"), "--name", "rgb", *home)
    other = sw("models", "promote", "rgb", "--aoi", "valley", "--force", *home, code=2)
    assert "which AOI 'valley' does not fetch" in other
    unknown = sw("models", "promote", "v9", "--aoi", "valley", *home, code=2)
    assert "valid names: rgb, v1, v2" in unknown
