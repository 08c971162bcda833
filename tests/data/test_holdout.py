"""The benchmark held out of a reviewed patch folder: a spatial block in the east, with
every window overlapping it or showing one of its landslides set aside, never trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slidewatch.data.hdf5 import write_image, write_mask
from slidewatch.data.holdout import benchmark_refs, holdout_split, write_holdout
from slidewatch.errors import DatasetError


def _folder(root: Path, origins: list[tuple[int, int, list[str]]]) -> Path:
    """Patches at (x, y) metres of a 1280 m window, with the landslides they show."""
    features = []
    for i, (x, y, groups) in enumerate(origins, start=1):
        rng = np.random.default_rng(i)
        write_image(root / "img" / f"image_{i}.h5", rng.uniform(0, 2, (16, 16, 3)).astype("f4"),
                    ("B2", "B3", "B4"))  # fmt: skip
        write_mask(root / "mask" / f"mask_{i}.h5", (rng.uniform(size=(16, 16)) > 0.9))
        props = {"id": f"image_{i}", "image": f"img/image_{i}.h5", "crs": "EPSG:32718",
                 "bounds": [x, y, x + 1280, y + 1280], "groups": groups}  # fmt: skip
        features.append({"type": "Feature", "id": f"image_{i}", "geometry": None,
                         "properties": props})  # fmt: skip
    (root / "index.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                    "features": features}))  # fmt: skip
    return root


def test_the_benchmark_is_the_east_and_nothing_leaks(tmp_path: Path) -> None:
    # a row of lattice windows west to east (image_1 … image_8); landslide a/7 is seen in
    # image_6, image_7 and image_8; image_9 overlaps image_8 by half a window
    origins = [(1280 * i, 0, [f"a/{i}"]) for i in range(8)]
    origins[5] = (1280 * 5, 0, ["a/7"])
    origins[6] = (1280 * 6, 0, ["a/7", "a/6"])
    origins.append((1280 * 7 + 640, 0, ["a/9"]))
    folder = _folder(tmp_path / "reviewed", origins)
    parts = holdout_split(folder, fraction=0.2)
    ids = {name: sorted(r.id for r in refs) for name, refs in parts.items()}
    assert ids["benchmark"] == ["image_8", "image_9"]  # the two easternmost
    assert ids["buffer"] == ["image_6", "image_7"]  # the same landslide as image_8
    assert sorted(ids["train"] + ids["val"]) == [f"image_{i}" for i in range(1, 6)]


def test_benchmark_refs_read_the_written_split(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "r", [(1280 * i, 0, [f"a/{i}"]) for i in range(6)])
    sizes = write_holdout(folder, 0.34)
    assert sizes["benchmark"] == 2 and sizes["train"] + sizes["val"] == 4
    refs, what = benchmark_refs([folder])
    assert sorted(r.id for r in refs) == ["image_5", "image_6"] and "held out" in what
    (folder / "split.json").unlink()
    refs, what = benchmark_refs([folder])
    assert len(refs) == 6 and "all labelled patches" in what


def test_one_landslide_everywhere_cannot_be_held_out(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "r", [(1280 * i, 0, ["a/1"]) for i in range(4)])
    with pytest.raises(DatasetError, match="leaves 0 to train on"):
        holdout_split(folder, 0.25)
