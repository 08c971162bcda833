from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.data.cache import is_cache
from slidewatch.data.layout import discover
from slidewatch.synthetic import GeneratedDataset, make_l4s_dataset


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_data_help_lists_every_command_with_help() -> None:
    code, out = run("data", "--help")
    assert code == 0
    for name in ("check", "stats", "cache", "split", "normalization", "generate", "build-patches"):
        assert name in out
    for name in ("check", "stats", "cache", "split", "normalization", "generate"):
        code, out = run("data", name, "--help")
        assert code == 0 and "Show this message" in out


def test_check_exit_codes_table_and_json(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "ds", n=3, size=32).root
    code, out = run("data", "check", str(root))
    assert code == 0 and "0 errors, 0 warnings" in out
    ref = discover(root)[0]
    ref.image.write_bytes(b"garbage")
    mask = np.full((32, 32), 3, np.uint8)
    import h5py

    ref2 = discover(root)[1]
    ref2.mask.unlink()  # type: ignore[union-attr]
    with h5py.File(ref2.mask, "w") as f:
        f.create_dataset("mask", data=mask)
    code, out = run("data", "check", str(root))
    assert code == 1
    assert "severity" in out and "unreadable" in out and "other than 0/1 (3)" in out
    assert "2 errors" in out
    code, out = run("data", "check", str(root), "--json")
    payload = json.loads(out)
    assert code == 1 and payload["errors"] == 2 and payload["issues"][0]["file"] == str(ref.image)


def test_stats_json_and_plot(
    tmp_path: Path, flat_dataset: GeneratedDataset, other_dataset: GeneratedDataset
) -> None:
    plot = tmp_path / "fig" / "bands.png"
    code, out = run(
        "data",
        "stats",
        str(flat_dataset.root),
        str(other_dataset.root),
        "--json",
        "--plot",
        str(plot),
        "--bands",
        "six10m",
    )
    assert code == 0
    rows = json.loads(out)["sources"]
    assert [r["source"] for r in rows] == ["alpha", "beta", "all"]
    assert rows[0]["landslide_pixels"] == sum(flat_dataset.landslide_pixels)
    assert rows[2]["patches"] == 11
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in plot.parent.iterdir()] == ["bands.png"]
    code, out = run("data", "stats", str(flat_dataset.root), "--source", "l4s")
    assert code == 0 and "l4s" in out and "landslide km²" in out


def test_cache_split_normalization_generate(tmp_path: Path, flat_dataset: GeneratedDataset) -> None:
    root = str(flat_dataset.root)
    code, out = run("data", "cache", root, "--out", str(tmp_path / "cache"))
    assert code == 0 and is_cache(tmp_path / "cache") and "6 patches" in out
    code, _ = run("data", "split", root, "--out", str(tmp_path / "s.json"), "--seed", "3")
    split = json.loads((tmp_path / "s.json").read_text())
    assert code == 0 and len(split["train"]) + len(split["val"]) == 6 and len(split["val"]) == 1
    code, _ = run(
        "data",
        "normalization",
        root,
        "--out",
        str(tmp_path / "n.json"),
        "--bands",
        "six10m",
        "--percentiles",
        "1",
        "99",
    )
    norm = json.loads((tmp_path / "n.json").read_text())
    assert code == 0 and norm["bands"][0] == "B2" and norm["percentiles"] == [1.0, 99.0]
    code, out = run(
        "data",
        "generate",
        "--out",
        str(tmp_path / "gen"),
        "-n",
        "3",
        "--size-px",
        "32",
        "--layout",
        "official",
    )
    assert code == 0 and (tmp_path / "gen" / "TrainData" / "img").is_dir()


@pytest.mark.parametrize("case", ["empty", "bad band", "corrupt", "not a cache dir"])
def test_bad_input_gives_clean_error(tmp_path: Path, case: str) -> None:
    root = make_l4s_dataset(tmp_path / "ds", n=2, size=32).root
    out_dir = tmp_path / "out"
    if case == "empty":
        (tmp_path / "empty").mkdir()
        code, out = run("data", "stats", str(tmp_path / "empty"))
        assert "accepted layouts" in out
    elif case == "bad band":
        code, out = run("data", "stats", str(root), "--bands", "B4,B99")
        assert "B99" in out and "valid bands" in out
    elif case == "corrupt":
        discover(root)[1].image.write_bytes(b"\x89HDF" * 10)
        code, out = run("data", "cache", str(root), "--out", str(out_dir))
        assert "image_2.h5" in out and not is_cache(out_dir)
        assert not list(out_dir.glob("*.npy")) and not list(out_dir.glob("*.tmp"))
    else:
        code, out = run("data", "check", str(root / "img" / "image_1.h5"))
    assert code != 0 and ("Error" in out)


def test_data_help_survives_missing_build_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("slidewatch.cli.data.BUILD_MODULE", "slidewatch.cli.no_such_build")
    code, out = run("data", "--help")
    assert code == 0 and "build-patches" in out and "check" in out
    code, out = run("data", "build-patches")
    assert code != 0 and "not available" in out


def test_stats_plot_defaults_to_the_bands_every_source_holds(tmp_path: Path) -> None:
    four = make_l4s_dataset(tmp_path / "four", n=2, size=32, bands="rgbn", seed=1)
    full = make_l4s_dataset(tmp_path / "full", n=2, size=32, seed=2)
    plot = tmp_path / "bands.png"
    code, out = run("data", "stats", str(four.root), str(full.root), "--plot", str(plot))
    assert code == 0, out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from slidewatch.data.layout import discover_many
    from slidewatch.data.stats import common_bands

    assert common_bands(discover_many([four.root, full.root])) == ("B2", "B3", "B4", "B8")


def test_stats_count_all_zero_images(tmp_path: Path) -> None:
    import h5py

    made = make_l4s_dataset(tmp_path / "ds", n=3, size=32, seed=3)
    image = made.root / "img" / f"{made.ids[1]}.h5"
    with h5py.File(image, "r+") as f:
        f["img"][...] = 0
    code, out = run("data", "stats", str(made.root), "--json")
    assert code == 0 and [r["empty_images"] for r in json.loads(out)["sources"]] == [1, 1]
    code, out = run("data", "stats", str(made.root))
    assert "1 of 3 images are all zeros" in out
