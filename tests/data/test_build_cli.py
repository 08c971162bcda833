"""``slidewatch data build-patches`` through the real CLI entry (errors are clean)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from slidewatch.cli import cli


def make_scene(folder: Path, crs: str | None = "EPSG:32718") -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    profile = {
        "driver": "GTiff",
        "height": 128,
        "width": 96,
        "transform": from_origin(300_000, 8_900_000, 10, 10),
    }
    if crs:
        profile["crs"] = crs
    scene, labels = folder / "scene.tif", folder / "labels.tif"
    with rasterio.open(scene, "w", count=4, dtype="float32", **profile) as dst:
        dst.write(rng.uniform(200, 3000, (4, 128, 96)).astype("float32"))
        dst.descriptions = ("B4", "B3", "B2", "B8")
    with rasterio.open(labels, "w", count=1, dtype="uint8", **profile) as dst:
        dst.write(rng.integers(0, 2, (1, 128, 96)).astype("uint8"))
    return scene, labels


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["data", "build-patches", *args])
    return result.exit_code, result.output


def test_help_lists_the_options() -> None:
    code, out = run("--help")
    assert code == 0
    for option in (
        "--scene",
        "--labels",
        "--out",
        "--size",
        "--stride",
        "--roi",
        "--bbox",
        "--min-valid-fraction",
        "--band-order",
        "--scale",
        "--landslide-value",
    ):
        assert option in out


def test_build_writes_a_dataset_that_discover_and_check_accept(tmp_path: Path) -> None:
    scene, labels = make_scene(tmp_path)
    out = tmp_path / "patches"
    code, text = run(
        "--scene", str(scene), "--labels", str(labels), "--out", str(out), "--size", "32", "--quiet"
    )
    assert code == 0, text
    index = json.loads((out / "index.geojson").read_text())
    assert len(index["features"]) == 12 and index["bands"] == ["B2", "B3", "B4", "B8"]
    layout = pytest.importorskip("slidewatch.data.layout")
    refs = layout.discover(out)
    assert len(refs) == 12 and all(r.mask is not None for r in refs)
    check = pytest.importorskip("slidewatch.data.check")
    report = check.check_dataset(out, progress=False)
    assert report.errors == 0, report.to_dict()


def test_roi_and_summary(tmp_path: Path) -> None:
    scene, labels = make_scene(tmp_path)
    code, text = run(
        "--scene",
        str(scene),
        "--labels",
        str(labels),
        "--out",
        str(tmp_path / "o"),
        "--size",
        "32",
        "--roi-crs",
        "scene",
        "--bbox",
        "300010,8899000,300020,8899010",
        "--roi",
        "300500,8899500",
    )
    assert code == 0, text
    assert "wrote 2 patches" in text and "B2,B3,B4,B8" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--band-order", "B4,B3,B2,B77"], "unknown band 'B77'"),
        (["--band-order", "B4,B3"], "names 2 bands"),
        (["--bbox", "1,2,3"], "not 4 comma-separated numbers"),
        (["--min-valid-fraction", "1.0", "--size", "200"], "min-valid-fraction"),
    ],
)
def test_bad_input_is_a_clean_error(tmp_path: Path, extra: list[str], message: str) -> None:
    scene, labels = make_scene(tmp_path)
    code, text = run(
        "--scene", str(scene), "--labels", str(labels), "--out", str(tmp_path / "o"), *extra
    )
    assert code == 2 and message in text and "Traceback" not in text
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("o.tmp-*"))


def test_scene_without_crs_and_non_empty_out(tmp_path: Path) -> None:
    scene, _ = make_scene(tmp_path, crs=None)
    code, text = run("--scene", str(scene), "--out", str(tmp_path / "o"))
    assert code == 2 and "has no CRS" in text
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    scene2, _ = make_scene(tmp_path / "full")
    code, text = run("--scene", str(scene2), "--out", str(tmp_path / "full"))
    assert code == 2 and "not empty" in text


def test_truncated_scene_is_a_clean_error(tmp_path: Path) -> None:
    scene, _ = make_scene(tmp_path)
    data = scene.read_bytes()
    scene.write_bytes(data[: len(data) // 2])
    code, text = run("--scene", str(scene), "--out", str(tmp_path / "o"), "--size", "32")
    assert code == 2 and "Traceback" not in text
    assert "scene.tif" in text and ("corrupt" in text or "not a readable raster" in text)
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("o.tmp-*"))
