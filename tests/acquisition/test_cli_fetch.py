"""``slidewatch fetch`` and ``fetch pair`` as a user runs them; errors are one clean line."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import rasterio
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.cli.options import source_options

from .conftest import Catalogue, aoi_from_utm


def bbox_text() -> str:
    return ",".join(f"{v:.7f}" for v in aoi_from_utm(100, 100, 500, 500).bounds)


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_fetch_writes_the_stack_and_reports(catalogue: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "stack.tif"
    result = run(
        "fetch",
        "--aoi",
        bbox_text(),
        "--start",
        "2023-06-10",
        "--end",
        "2023-06-12",
        "--out",
        str(out),
        "--stac-url",
        str(catalogue.path),
        "--bands",
        "six10m",
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (6 bands" in result.output
    assert "2023-06-11: C_cloudy (cloud: scene 11.1%, AOI 25.0%)" in result.output
    with rasterio.open(out) as ds:
        assert ds.descriptions == ("B2", "B3", "B4", "B8", "slope", "dem")
        command = ds.tags()["COMMAND"]
    assert command.startswith("slidewatch fetch --start 2023-06-10 --end 2023-06-12")
    assert "--bands six10m" in command and "--aoi " in command
    assert (
        json.loads(out.with_suffix(".json").read_text())["properties"]["slidewatch:command"]
        == command
    )


def test_fetch_pair_writes_pre_and_post(catalogue: Catalogue, tmp_path: Path) -> None:
    result = run(
        "fetch",
        "pair",
        "--aoi",
        bbox_text(),
        "--event-date",
        "2023-06-05",
        "--days",
        "10",
        "--out",
        str(tmp_path),
        "--stac-url",
        str(catalogue.path),
        "--bands",
        "B4",
    )
    assert result.exit_code == 0, result.output
    with rasterio.open(tmp_path / "pre.tif") as pre, rasterio.open(tmp_path / "post.tif") as post:
        assert json.loads(pre.tags()["SCENE_IDS"]) == ["B_2023"]
        assert json.loads(post.tags()["SCENE_IDS"]) == ["C_cloudy"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2023-03-01", "--end", "2023-01-01"], "before the start date"),
        (["--start", "2020-01-01", "--end", "2020-01-31"], "no scene found"),
        (["--start", "2023-09-01", "--end", "2023-09-01"], "cloudier than --max-cloud"),
        (["--start", "2023-06-01", "--end", "2023-06-01", "--bands", "B4,B99"], "unknown band"),
        (["--start", "2023-06-01", "--end", "2023-06-01", "--asset-key", "B4"], "BAND=KEY"),
        (
            ["--start", "2023-06-01", "--end", "2023-06-01", "--asset-key", "B4=nope"],
            "'nope' given for B4",
        ),
    ],
)
def test_errors_are_one_line_with_exit_2(
    catalogue: Catalogue, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "stack.tif"
    result = CliRunner().invoke(
        cli,
        [
            "fetch",
            "--aoi",
            bbox_text(),
            "--out",
            str(out),
            "--stac-url",
            str(catalogue.path),
            *args,
        ],
    )
    assert result.exit_code == 2, result.output
    assert "Error" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".stack.tif*"))


def test_bad_aoi_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "fetch",
            "--aoi",
            "179.5,0,-179.5,1",
            "--start",
            "2023-01-01",
            "--end",
            "2023-01-02",
            "--out",
            "x.tif",
        ],
    )
    assert result.exit_code == 2 and "antimeridian" in result.output
    result = CliRunner().invoke(cli, ["fetch", "--aoi", "1,1,1.1,1.1"])
    assert result.exit_code == 2 and "missing --start, --end, --out" in result.output


def test_source_options_are_reusable_by_other_commands() -> None:
    @click.command()
    @source_options
    def other(source: object) -> None:
        click.echo(json.dumps(source.to_dict(), sort_keys=True))  # type: ignore[attr-defined]

    result = CliRunner().invoke(
        other,
        ["--source", "gee", "--max-cloud", "12", "--asset-key", "B4=red", "--bands", "six10m"],
    )
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["kind"] == "gee" and config["collection"] == "COPERNICUS/S2_HARMONIZED"
    assert config["max_cloud"] == 12 and config["asset_keys"] == {"B4": "red"}
    help_text = CliRunner().invoke(other, ["--help"]).output
    for flag in ("--stac-url", "--collection", "--dem-collection", "--composite", "--dn-offset"):
        assert flag in help_text


def test_acquisition_does_not_import_torch(catalogue: Catalogue, tmp_path: Path) -> None:
    """Nor dask.distributed: naming dask's scheduler ("threads") imports it, 0.18 s of every
    fetch command's start (``writing.reading_imagery`` passes the scheduler itself)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from slidewatch.cli import main\n"
        "try:\n"
        f"    main(['fetch', '--aoi', '{bbox_text()}', '--start', '2021-06-01', '--end',"
        f" '2021-06-01', '--out', r'{tmp_path / 's.tif'}', '--stac-url', r'{catalogue.path}'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "import slidewatch.acquisition.earthengine.source, slidewatch.acquisition.pair\n"
        "bad = [m for m in ('torch', 'lightning', 'distributed') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "s.tif").exists()


def test_a_rerun_removes_a_killed_fetchs_temporaries(catalogue: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "stack.tif"
    killed = [tmp_path / ".stack.tif.k1ll3d_0.tif", tmp_path / ".stack.mask.tif.k1ll3d_1.tif",
              tmp_path / ".stack.json.k1ll3d_2.tmp"]  # fmt: skip
    for path in killed:
        path.write_bytes(b"half a stack")
    mine = tmp_path / ".stack.tif.notes"  # not a temporary's name: kept
    mine.write_text("mine")
    dates = ["--start", "2023-06-10", "--end", "2023-06-12"]
    result = run("fetch", "--aoi", bbox_text(), *dates, "--out", str(out),
                 "--stac-url", str(catalogue.path), "--bands", "six10m")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [p for p in killed if p.exists()] == [] and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [mine.name]
