from __future__ import annotations

import json
from pathlib import Path

import rasterio
from click.testing import CliRunner
from rio_cogeo.cogeo import cog_validate

from slidewatch.cli import cli


def test_small_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--small", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output
    assert "against the synthetic truth: F1" in result.output
    det = out / "detection"
    for name in ("probability.tif", "landslides.tif", "landslides.geojson", "summary.json"):
        assert (det / name).is_file(), name
    assert cog_validate(str(det / "landslides.tif"))[0]
    with (
        rasterio.open(det / "landslides.tif") as ds,
        rasterio.open(out / "scene" / "scene.tif") as sc,
    ):
        assert (ds.crs, ds.transform, ds.shape) == (sc.crs, sc.transform, sc.shape)
    summary = json.loads((out / "demo.json").read_text())
    assert summary["demo"]["synthetic"] is True
    assert set(summary["demo"]["scores_against_truth"]) == {"precision", "recall", "f1", "iou"}
    assert summary["options"]["engine"] == "onnx"  # the fast CPU engine for its detection


def test_demo_defaults_stay_within_the_time_budget() -> None:
    from slidewatch.demo import DemoSettings

    s = DemoSettings()
    patches = ((s.train_size_px - 128) // s.stride_px + 1) ** 2
    # measured budget: <= 12 epochs of <= 81 patches, a scene of <= 1536² px
    assert patches * s.epochs <= 81 * 12 and s.scene_size_px <= 1536 and s.patience <= 3


def test_demo_refuses_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["demo", "--small", "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a slidewatch demo folder" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"
