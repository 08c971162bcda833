"""End to end, offline, as a user runs it: monitor add + run-once twice on a local STAC
catalogue (a new scar on the second date, a cloud over an old one), detection through the
ONNX engine in a process that never imports torch, an alert delivered to a webhook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import shape
from tests.monitoring.cli_runner import run_cli
from tests.monitoring.model import SOURCE_BANDS

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.tables import Alert, Change


def add_args(name: str, example: Any, model: Path, home: Path, *extra: str) -> list[str]:
    aoi = home.parent / f"{name}.geojson"
    aoi.write_text(json.dumps(example.aoi))
    return ["monitor", "add", name, "--aoi", str(aoi), "--model", str(model), "--stac-url",
            str(example.catalog), "--bands", SOURCE_BANDS, "--home", str(home), *extra]  # fmt: skip


def test_two_looks_find_the_new_landslide_alert_once_and_keep_the_cloud_unknown(
    tmp_path: Path, threshold_model: Path, example: Any, receiver: Any
) -> None:
    url, handler = receiver
    home = tmp_path / "home"
    run_cli(*add_args("chosica", example, threshold_model, home, "--webhook", url))
    _, listing, _ = run_cli("monitor", "list", "--home", str(home))
    assert "chosica" in listing and "due now" in listing

    _, first, heavy = run_cli("monitor", "run-once", "--now", "2023-03-03T00:00:00Z",
                              "--home", str(home))  # fmt: skip
    assert heavy == [], f"run-once imported {heavy}"
    assert "2023-03-01 done" in " ".join(first.split())
    _, second, heavy = run_cli("monitor", "run-once", "--now", "2023-03-09T00:00:00Z",
                               "--home", str(home))  # fmt: skip
    assert heavy == []
    assert "2023-03-06 done" in " ".join(second.split()) and "1 delivered" in second

    # the alert: one, about the new scar, delivered once after two 500s
    assert len(handler.received) == 1
    event, key = handler.received[0]
    assert event["type"] == "org.slidewatch.landslide.new" and event["specversion"] == "1.0"
    payload = event["data"]
    assert key == event["id"] == payload["alert_id"]
    assert shape(payload["landslide"]["geometry"]).intersects(shape(example.new_scar))
    assert (payload["kind"], payload["confidence"]) == ("new", "possible")
    assert payload["acquisition"]["scene_ids"] == ["S2B_EXAMPLE_20230306"]
    assert payload["model"]["hash"] and "path" not in payload["model"]
    run_id = payload["run_id"]
    assert payload["links"]["products"]["change.tif"] == f"/runs/{run_id}/products/change.tif"
    assert str(home) not in json.dumps(event)  # no server path in a payload

    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        with registry.session() as s:
            changes = s.query(Change).all()
            assert s.query(Alert).count() == 1
        hidden = shape(example.hidden_scar)
        under_cloud = [c.kind for c in changes if shape(c.geometry).intersects(hidden)]
        assert under_cloud and set(under_cloud) == {"unknown"}  # hidden, never "gone"
        assert "gone" not in {c.kind for c in changes}
        run = registry.runs("chosica")[0]
    with rasterio.open(run.products["change.tif"]) as ds:
        from rasterio.warp import transform_geom

        centre = shape(transform_geom("EPSG:4326", ds.crs, example.cloud)).centroid
        row, col = ds.index(centre.x, centre.y)
        assert ds.read(1)[row, col] == 255

    # idempotent: again at the same time, and later with nothing new
    _, again, _ = run_cli("monitor", "run-once", "--now", "2023-03-09T00:00:00Z",
                          "--home", str(home))  # fmt: skip
    assert "nothing due" in again
    _, later, _ = run_cli("monitor", "run-once", "--now", "2023-03-20T00:00:00Z",
                          "--home", str(home))  # fmt: skip
    assert "no new acquisition" in later
    assert len(handler.received) == 1

    # the archive is a STAC catalogue any browser opens
    catalog = pystac.Catalog.from_file(str(home / "archive" / "catalog.json"))
    ids = sorted(item.id for item in catalog.get_items(recursive=True))
    assert ids == ["chosica-2023-03-01", "chosica-2023-03-06"]
    rasters = sorted((home / "archive").rglob("*.tif"))  # every product a valid COG
    assert len(rasters) == 10 and all(cog_validate(str(r))[0] for r in rasters)  # ndvi.tif too

    _, table, _ = run_cli("monitor", "history", "chosica", "--home", str(home), "--plot",
                          str(tmp_path / "h.png"), "--panels", str(tmp_path / "p.png"))  # fmt: skip
    assert "baseline" in table and "unknown" in table
    from matplotlib.image import imread

    for png in ("h.png", "p.png"):
        pixels = imread(tmp_path / png)
        assert pixels.shape[1] > 400 and float(np.std(pixels)) > 0.05
