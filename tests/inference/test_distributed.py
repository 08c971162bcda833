"""Dask execution gives exactly the single-process result."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.inference import distributed
from slidewatch.inference.detect import detect
from slidewatch.inference.detection import DetectOptions
from slidewatch.inference.windows import window_grid

from .conftest import scene_array, write_scene

pytest.importorskip("distributed")


def test_row_blocks_start_on_window_rows_and_cover_the_scene() -> None:
    grid = window_grid(300, 100, 32, 8)
    blocks = distributed.row_blocks(grid, window_rows=3)
    assert blocks[0][0] == 0 and blocks[-1][1] == 300
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert all(start in grid.row_starts for start, _ in blocks)


def test_dask_result_is_identical(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    scene = write_scene(tmp_path / "scene.tif", scene_array(230, 150, seed=4))
    options = DetectOptions(tile_px=64, overlap_px=20, batch_size=3, engine="onnx")
    single = detect(scene, tiny_model, tmp_path / "single", options, progress=False)
    monkeypatch.setattr(distributed, "WINDOW_ROWS_PER_BLOCK", 2)  # several blocks
    assert len(distributed.row_blocks(window_grid(230, 150, 64, 20))) >= 3
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        spread = detect(
            scene,
            tiny_model,
            tmp_path / "dask",
            replace(options, dask_address=cluster.scheduler_address),
            progress=False,
        )
    for name in ("landslides.tif", "probability.tif"):
        with (
            rasterio.open(tmp_path / "single" / name) as a,
            rasterio.open(tmp_path / "dask" / name) as b,
        ):
            np.testing.assert_array_equal(a.read(), b.read())
    assert spread.polygon_count == single.polygon_count
    assert (tmp_path / "dask" / "landslides.geojson").read_text() == (
        tmp_path / "single" / "landslides.geojson"
    ).read_text()


def test_a_persistent_cluster_picks_up_a_recalibrated_model(
    tmp_path: Path, tiny_model: Path
) -> None:
    import json
    import shutil

    from distributed import LocalCluster

    model = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    scene = write_scene(tmp_path / "scene.tif", scene_array(100, 90, seed=6))
    options = DetectOptions(tile_px=64, overlap_px=16, engine="onnx")
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
        host="127.0.0.1", dashboard_address=None,
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        detect(scene, model, tmp_path / "first", replace(options, dask_address=address),
               progress=False)  # fmt: skip
        doc = json.loads((model / "model.json").read_text())
        doc["normalization"]["offset"], doc["normalization"]["scale"] = [3.0] * 4, [0.1] * 4
        (model / "model.json").write_text(json.dumps(doc))  # same path, another model
        detect(scene, model, tmp_path / "second", replace(options, dask_address=address),
               progress=False)  # fmt: skip
    detect(scene, model, tmp_path / "local", options, progress=False)
    read = {k: rasterio.open(tmp_path / k / "probability.tif").read(1) for k in
            ("first", "second", "local")}  # fmt: skip
    assert np.abs(read["first"] - read["second"]).max() > 1e-3
    np.testing.assert_array_equal(read["second"], read["local"])


def test_workers_on_one_host_share_its_cores() -> None:
    from distributed import Client, LocalCluster

    from slidewatch.inference.engine import available_cores

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
            host="127.0.0.1", dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        hosts = distributed._workers_on_host(client)
        assert hosts == {"tcp://127.0.0.1": 2}
        shares = [
            client.submit(distributed.worker_threads, hosts, workers=[w], pure=False).result()
            for w in client.scheduler_info()["workers"]
        ]
    assert shares == [max(1, available_cores() // 2)] * 2
    assert distributed.worker_threads(hosts) == available_cores()  # not in a worker: all
