"""``monitor export-reviews`` on the two-date example: the reviewed landslides of the
second look become L4S patches cut from its archived stack (the polygon as the mask, the
first look's window in pre/), idempotent, filtered by verdict and date, saying what it
skipped; the labeling tool opens them with the polygon and the pre-event image, and its
export passes data check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from shapely.geometry import shape
from tests.monitoring.test_end_to_end import add_args

from slidewatch.cli import cli
from slidewatch.data.check import check_dataset
from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Landslide, Run


def sw(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory, threshold_model: Path, example: Any) -> Path:
    """A home that looked at both dates of the example."""
    home = tmp_path_factory.mktemp("reviews") / "home"
    sw(*add_args("chosica", example, threshold_model, home))
    for now in ("2023-03-03T00:00:00Z", "2023-03-09T00:00:00Z"):
        sw("monitor", "run-once", "--now", now, "--home", str(home))
    return home


def _slides(home: Path) -> tuple[Registry, list[tuple[int, dict[str, Any], int]]]:
    registry = Registry(f"sqlite:///{home / 'registry.db'}")
    with registry.session() as s:
        rows = [(r.id, r.geometry, r.last_run_id) for r in s.query(Landslide).all()]
    return registry, rows


def test_reviews_become_patches_with_their_polygon_and_the_pre_event_window(
    watched: Path, example: Any, tmp_path: Path
) -> None:
    home = ["--home", str(watched)]
    registry, slides = _slides(watched)
    new = next(i for i, g, _ in slides if shape(g).intersects(shape(example.new_scar)))
    near, second = next((shape(g), run) for i, g, run in slides if i == new)
    beside = min((shape(g).distance(near), i) for i, g, _ in slides if i != new)[1]
    first_only = next(i for i, _, run in slides if run != second)  # under the cloud later
    others = [beside, first_only]  # one in the confirmed one's window, one in another
    sw("monitor", "review", str(new), "--verdict", "confirmed", *home)
    for i in others:
        sw("monitor", "review", str(i), "--verdict", "rejected", *home)
    out = tmp_path / "reviewed"

    only = sw("monitor", "export-reviews", "--out", str(out), "--verdict", "confirmed", *home)
    assert only.startswith("wrote 1 confirmed, 1 pre")
    index = json.loads((out / "index.geojson").read_text())
    (feature,) = index["features"]
    props = feature["properties"]
    assert [r["landslide_id"] for r in props["reviews"]] == [new]
    assert props["groups"] == [f"chosica/{new}"] and props["crs"].startswith("EPSG:")
    assert props["source"]["stack"].endswith("stack.tif") and props["source"]["pre"]
    image, mask = read_image(out / props["image"]), read_mask(out / props["mask"])
    assert image.shape == (128, 128, 4) and read_bands(out / props["image"]) == (
        "B2", "B3", "B4", "B8")  # fmt: skip
    with rasterio.open(props["source"]["stack"]) as ds:  # the archived stack, as it is
        row, col = props["row_off"], props["col_off"]
        h, w = min(128, ds.height - row), min(128, ds.width - col)
        window = ds.read(window=((row, row + h), (col, col + w)))
    seen = ~np.isnan(window).any(axis=0)
    assert np.allclose(np.moveaxis(image[:h, :w], -1, 0)[:, seen], window[:, seen])
    assert (image[:h, :w][~seen] == 0).all() and mask.sum() == props["landslide_pixels"] > 10
    assert (out / props["pre"]).is_file()  # the first look's stack, same window
    assert not np.array_equal(read_image(out / props["pre"]), image)
    _labeling_opens_it(out, f"img/{props['id']}", tmp_path)

    everything = sw("monitor", "export-reviews", "--out", str(out), *home)
    assert "rejected" in everything  # the rejected landslides' windows are added
    assert "1 updated" in everything  # the confirmed window now lists them too
    assert read_mask(out / props["mask"]).sum() == props["landslide_pixels"]
    again = sw("monitor", "export-reviews", "--out", str(out), *home)
    assert again.startswith("wrote nothing new")
    later = sw("monitor", "export-reviews", "--out", str(tmp_path / "none"), "--since",
               "2999-01-01", *home)  # fmt: skip
    assert later.startswith("wrote nothing new")
    assert check_dataset(out, progress=False).ok

    sw(
        "monitor", "review", str(new), "--verdict", "rejected", *home
    )  # a changed verdict: masks rewritten
    changed = sw("monitor", "export-reviews", "--out", str(out), *home)
    assert "updated" in changed
    assert read_mask(out / props["mask"]).sum() == 0

    _pruned_stacks_are_skipped(watched, registry, new, out)
    registry.close()


def _labeling_opens_it(folder: Path, key: str, tmp_path: Path) -> None:
    from slidewatch.labeling.export import export_labeled
    from slidewatch.labeling.workspace import Workspace

    ws = Workspace(folder)
    assert key in ws.patches()
    meta = ws.describe(key)
    assert meta["pre"]["available"]
    before = ws.view(key, meta["combinations"][0]["name"], 2, 98, False, pre=True)
    after = ws.view(key, meta["combinations"][0]["name"], 2, 98, False)
    assert before.shape == after.shape == (128, 128, 3) and not np.array_equal(before, after)
    start = ws.start_mask(key)  # the reviewed polygon is where the labeler starts
    polygon = read_mask(folder / "mask" / f"mask_{key.removeprefix('img/image_')}.h5")
    assert start.source == "dataset" and polygon.sum() > 10
    assert np.array_equal(start.mask, polygon)
    out = export_labeled(folder, tmp_path / "labeled").out  # masks given: every patch done
    assert check_dataset(out, progress=False).ok
    carried = json.loads((out / "index.geojson").read_text())["features"]
    assert carried and all((out / f["properties"]["image"]).is_file() for f in carried)


def _pruned_stacks_are_skipped(home: Path, registry: Registry, slide: int, out: Path) -> None:
    with registry.session() as s:
        run = s.get_one(Run, s.get_one(Landslide, slide).last_run_id)
        Path(run.products["stack.tif"]).unlink()
    sw("monitor", "review", str(slide), "--verdict", "confirmed", "--home", str(home))
    pruned = sw("monitor", "export-reviews", "--out", str(out), "--home", str(home))
    assert "stack missing from the archive (pruned)" in pruned
