"""``detect``'s minimum polygon area: a default that drops specks, reported when it drops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from slidewatch.cli import cli
from slidewatch.cli.detect import detect as detect_command
from slidewatch.inference.polygons import MIN_AREA_M2, find_polygons

from .conftest import scene_array, write_scene


def test_default_drops_one_and_two_pixel_specks_and_counts_them(tmp_path: Path) -> None:
    classes = np.zeros((40, 40), np.uint8)
    classes[2, 2] = 1  # one 10 m pixel: 100 m²
    classes[10, 10:12] = 1  # two pixels: 200 m²
    classes[20, 20:23] = 1  # three pixels: 300 m², kept
    classes[30:35, 30:35] = 1  # 2,500 m², kept
    profile = {"driver": "GTiff", "width": 40, "height": 40, "count": 1, "crs": "EPSG:32646",
               "transform": from_origin(400000.0, 2500000.0, 10, 10)}  # fmt: skip
    with rasterio.open(tmp_path / "c.tif", "w", dtype="uint8", nodata=255, **profile) as ds:
        ds.write(classes, 1)
    with rasterio.open(tmp_path / "p.tif", "w", dtype="float32", **profile) as ds:
        ds.write(classes.astype(np.float32), 1)
    found = find_polygons(tmp_path / "c.tif", tmp_path / "p.tif", MIN_AREA_M2)
    assert sorted(round(f["properties"]["area_m2"]) for f in found.features) == [300, 2500]
    assert found.dropped_count == 2 and round(found.dropped_area_m2) == 300
    everything = find_polygons(tmp_path / "c.tif", tmp_path / "p.tif", 0.0)
    assert len(everything.features) == 4 and everything.dropped_count == 0


def test_cli_default_is_the_library_default_and_help_says_why() -> None:
    option = next(p for p in detect_command.params if p.name == "min_area_m2")
    assert option.default == MIN_AREA_M2
    help_text = " ".join(CliRunner().invoke(cli, ["detect", "--help"]).output.split())
    assert "default: 250.0" in help_text and "specks of 10 m imagery" in help_text


def test_summary_and_cli_report_the_dropped_polygons(tiny_model: Path, tmp_path: Path) -> None:
    scene = write_scene(tmp_path / "s.tif", scene_array(96, 96))
    args = ["detect", str(scene), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
            "--tile-px", "64", "--quiet", "--device", "cpu", "--min-area-m2", "1e9"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    dropped = summary["dropped_polygons"]
    assert summary["polygon_count"] == 0 and dropped["min_area_m2"] == 1e9
    assert dropped["count"] > 0 and dropped["area_m2"] == summary["landslide_pixels"] * 100
    assert f"({dropped['count']} smaller than 1e+09 m² dropped" in result.output


def test_help_and_files_state_both_nodata_values(tiny_model: Path, tmp_path: Path) -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["detect", "--help"]).output.split())
    assert "probability.tif (COG, float32 0-1; -1 = no data)" in help_text
    assert "landslides.tif (COG, uint8 0/1; 255 = no data)" in help_text
    scene = write_scene(tmp_path / "s.tif", scene_array(64, 64))
    from slidewatch.inference.detect import detect
    from slidewatch.inference.detection import DetectOptions

    detect(scene, tiny_model, tmp_path / "o", DetectOptions(tile_px=64, overlap_px=16),
           progress=False)  # fmt: skip
    with rasterio.open(tmp_path / "o" / "probability.tif") as ds:
        assert ds.nodata == -1.0 and ds.dtypes[0] == "float32"
    with rasterio.open(tmp_path / "o" / "landslides.tif") as ds:
        assert ds.nodata == 255 and ds.dtypes[0] == "uint8"
