"""End to end: ``detect`` with a tiny saved model, outputs, nodata, polygons, restarts, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from slidewatch.cli import cli
from slidewatch.errors import RasterError
from slidewatch.inference.cog import partial_path
from slidewatch.inference.detect import detect
from slidewatch.inference.detection import DetectionSummary, DetectOptions
from slidewatch.inference.polygons import landslide_polygons

from .conftest import scene_array, write_scene

OUTPUTS = [
    "landslides.geojson",
    "landslides.tif",
    "probability.tif",
    "quicklook.png",
    "summary.json",
]
SUMMARY_KEYS = ("landslide_area_km2", "polygon_count", "dropped_polygons", "landslide_pixels",
                "scene_area_km2", "scene", "input_sha256", "model", "data_contract", "options",
                "timings_s", "outputs")  # fmt: skip
"""``summary.json``'s entries, in the order the file has always had them."""
OPTION_KEYS = ("tile", "overlap", "batch_size", "device", "engine", "dask_workers", "dask_address",
               "grid_offset", "panel_px", "min_area_m2", "gpkg", "strict")  # fmt: skip


def read_band(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


@pytest.fixture(scope="module")
def nodata_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = scene_array(300, 520)
    data[:, :, :40] = -9999.0  # a no-data stripe on the left
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.tif", data, nodata=-9999.0)


@pytest.fixture(scope="module")
def detected(
    nodata_scene: Path, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DetectionSummary]:
    out = tmp_path_factory.mktemp("out")
    options = DetectOptions(tile_px=64, overlap_px=16, batch_size=6)
    return out, detect(nodata_scene, tiny_model, out, options, progress=False)


def test_outputs_are_cogs_on_the_input_grid(
    nodata_scene: Path, detected: tuple[Path, DetectionSummary]
) -> None:
    out, typed = detected
    summary = typed.to_dict()
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS  # no temporary files left
    with rasterio.open(nodata_scene) as src:
        grid = (src.crs, src.transform, src.width, src.height)
    for name, dtype in (("probability.tif", "float32"), ("landslides.tif", "uint8")):
        valid, errors, _ = cog_validate(str(out / name))
        assert valid, errors
        with rasterio.open(out / name) as ds:
            assert (ds.crs, ds.transform, ds.width, ds.height) == grid
            assert ds.dtypes[0] == dtype and ds.overviews(1)
    assert summary["outputs"] == OUTPUTS
    assert summary["model"]["bands"] == ["B4", "B3", "B2", "B8"]
    assert len(summary["input_sha256"][str(nodata_scene)]) == 64
    assert set(summary["timings_s"]) >= {"predict", "cog", "polygons"}
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "summary.json").read_text() == json.dumps(summary, indent=2) + "\n"
    assert list(summary) == list(SUMMARY_KEYS)  # the file's layout, key order included
    assert list(summary["options"]) == list(OPTION_KEYS)
    assert typed.options.window == (64, 16) and typed.polygon_count == summary["polygon_count"]


def test_nodata_becomes_255_and_probabilities_are_valid(
    detected: tuple[Path, DetectionSummary],
) -> None:
    out, summary = detected
    classes = read_band(out / "landslides.tif")
    prob = read_band(out / "probability.tif")
    assert (classes[:, :40] == 255).all() and (prob[:, :40] == -1).all()
    assert set(np.unique(classes[:, 40:])) <= {0, 1}
    assert ((prob[:, 40:] >= 0) & (prob[:, 40:] <= 1)).all()
    np.testing.assert_array_equal(classes[:, 40:] == 1, prob[:, 40:] >= 0.5)
    assert summary.scene_area_km2 == pytest.approx(300 * 480 * 100 / 1e6, rel=1e-3)


def test_polygons_area_and_mean_probability(tmp_path: Path) -> None:
    classes = np.zeros((60, 80), np.uint8)
    classes[10:20, 10:20] = 1  # 100 px of 10 m: 10 000 m²
    classes[40:42, 60:62] = 1  # 4 px: 400 m², a speck
    classes[:, 75:] = 255
    prob = np.where(classes == 1, 0.8, 0.1).astype(np.float32)
    prob[10:15, 10:20] = 0.6
    profile = {
        "driver": "GTiff",
        "width": 80,
        "height": 60,
        "count": 1,
        "crs": "EPSG:32646",
        "transform": from_origin(400000.0, 2500000.0, 10, 10),
    }
    with rasterio.open(tmp_path / "c.tif", "w", dtype="uint8", nodata=255, **profile) as ds:
        ds.write(classes, 1)
    with rasterio.open(tmp_path / "p.tif", "w", dtype="float32", **profile) as ds:
        ds.write(prob, 1)
    features = landslide_polygons(tmp_path / "c.tif", tmp_path / "p.tif")
    assert [f["properties"]["area_m2"] for f in features] == pytest.approx([10000, 400], rel=1e-6)
    assert features[0]["properties"]["mean_probability"] == pytest.approx(0.7)
    lon, lat = features[0]["geometry"]["coordinates"][0][0]
    assert 90 < lon < 93 and 22 < lat < 23  # EPSG:4326 coordinates
    kept = landslide_polygons(tmp_path / "c.tif", tmp_path / "p.tif", min_area_m2=1000)
    assert len(kept) == 1


def test_restart_after_a_kill_gives_the_same_outputs(
    nodata_scene: Path, tiny_model: Path, detected: tuple[Path, DetectionSummary], tmp_path: Path
) -> None:
    first, _ = detected
    partial_path(tmp_path / "probability.tif").write_bytes(b"half written")  # a killed run
    options = DetectOptions(tile_px=64, overlap_px=16, batch_size=6, gpkg=True)
    detect(nodata_scene, tiny_model, tmp_path, options, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*OUTPUTS, "landslides.gpkg"])
    for name in ("probability.tif", "landslides.tif"):
        np.testing.assert_array_equal(read_band(tmp_path / name), read_band(first / name))
    geo = (first / "landslides.geojson").read_text()
    assert (tmp_path / "landslides.geojson").read_text() == geo
    import fiona

    with fiona.open(tmp_path / "landslides.gpkg") as layer:
        assert len(layer) == len(json.loads(geo)["features"])


def test_all_nodata_scene_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    path = write_scene(tmp_path / "empty.tif", np.full((4, 50, 50), -9999.0), nodata=-9999.0)
    with pytest.raises(RasterError, match="no valid pixels"):
        detect(path, tiny_model, tmp_path / "out", DetectOptions(tile_px=32, overlap_px=8),
               progress=False)  # fmt: skip
    assert not (tmp_path / "out").exists()


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["detect", *args])
    return result.exit_code, result.output


def test_cli_detect_runs(nodata_scene: Path, tiny_model: Path, tmp_path: Path) -> None:
    code, output = run_cli(
        str(nodata_scene),
        "--model",
        str(tiny_model),
        "--out",
        str(tmp_path),
        "--tile-px",
        "64",
        "--quiet",
        "--device",
        "cpu",
    )
    assert code == 0, output
    assert "landslide polygons" in output
    assert json.loads((tmp_path / "summary.json").read_text())["options"]["overlap"] == 16


@pytest.mark.parametrize("problem", ["missing-bands", "no-crs", "junk", "bad-model"])
def test_cli_errors_are_clean(problem: str, tmp_path: Path, tiny_model: Path) -> None:
    scene = write_scene(tmp_path / "s.tif", scene_array(64, 64))
    model = tiny_model
    expected = {
        "missing-bands": "missing: B8",
        "no-crs": "has no CRS",
        "junk": "cannot read",
        "bad-model": "not valid JSON",
    }[problem]
    if problem == "missing-bands":
        scene = write_scene(tmp_path / "s3.tif", scene_array(64, 64, 3), ("B4", "B3", "B2"))
    elif problem == "no-crs":
        scene = write_scene(tmp_path / "nocrs.tif", scene_array(64, 64), crs=None)
    elif problem == "junk":
        scene.write_text("garbage")
    else:
        model = tmp_path / "model"
        model.mkdir()
        (model / "model.json").write_text("{not json")
    code, output = run_cli(
        str(scene),
        "--model",
        str(model),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--device",
        "cpu",
        "--tile-px",
        "32",
    )
    assert code == 2, output
    assert output.startswith("Error:") and expected in output
    assert "Traceback" not in output
    assert not any(p.name in OUTPUTS for p in (tmp_path / "out").glob("*"))


def test_inference_does_not_import_lightning() -> None:
    import subprocess
    import sys

    code = (
        "import sys, slidewatch.inference.detect, slidewatch.inference.distributed, "
        "slidewatch.models.predictor; print('lightning' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_single_band_files_go_through_detect(tmp_path: Path, tiny_model: Path) -> None:
    data = scene_array(96, 80)
    paths = []
    for k, band in enumerate(("B04", "B03", "B02", "B08")):
        paths.append(write_scene(tmp_path / f"T46_{band}.tif", data[k : k + 1], (band,)))
    options = DetectOptions(tile_px=32, overlap_px=8)
    summary = detect(paths, tiny_model, tmp_path / "out", options, progress=False)
    assert len(summary.input_sha256) == 4
    with rasterio.open(tmp_path / "out" / "landslides.tif") as ds:
        assert (ds.width, ds.height) == (80, 96)


def test_a_failed_run_leaves_no_temporary_files(
    nodata_scene: Path, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import slidewatch.inference.detect as module

    def broken(*args: object, **kwargs: object) -> None:
        raise RasterError("disk full; free some space")

    monkeypatch.setattr(module, "write_cog", broken)
    with pytest.raises(RasterError, match="disk full"):
        detect(nodata_scene, tiny_model, tmp_path, DetectOptions(tile_px=64, overlap_px=16),
               progress=False)  # fmt: skip
    assert list(tmp_path.iterdir()) == []
