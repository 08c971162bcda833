"""The whole learning loop, offline, on a generated area: an AOI watched with a weak model →
landslides → reviews (confirmed where the ground truth has a scar, rejected elsewhere) →
export-reviews → data check clean → a held-out benchmark → fine-tune from the weak model →
compare (the gate lets the better model through and stops a worse one) → promote → the
next run records the new version. The reviewer also corrects the outlines in the labeling
tool (the polygons are the weak model's guesses), so the benchmark is the ground truth.
The data are SYNTHETIC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from slidewatch.cli import cli

pytestmark = pytest.mark.slow

HEIGHT, WIDTH = 516, 1020
DATES = (datetime(2023, 3, 1, 15, tzinfo=UTC), datetime(2023, 3, 6, 15, tzinfo=UTC))
CONFIRM_OVERLAP = 0.3
"""The simulated reviewer confirms a landslide when this share of it is a true scar."""


def sw(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: more threads only contend
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.monitoring.model import train_small_model

    from slidewatch.synthetic import (
        CRS,
        ORIGIN,
        SyntheticScene,
        area_bands,
        lonlat_box,
        write_catalog,
    )

    root = tmp_path_factory.mktemp("loop")
    bands, dem, scars = area_bands(HEIGHT, WIDTH, 7)
    scenes = [SyntheticScene(f"S2A_LOOP_{d:%Y%m%d}", d, bands) for d in DATES]
    catalog = write_catalog(root / "catalog", scenes, dem)
    aoi = root / "aoi.geojson"
    aoi.write_text(json.dumps(lonlat_box(slice(6, HEIGHT - 6), slice(6, WIDTH - 6), ORIGIN, CRS)))
    weak = train_small_model(root / "weak", steps=8)  # a weak model: few steps
    worse = train_small_model(root / "worse", steps=1, seed=5)
    return {"root": root, "catalog": catalog, "aoi": aoi, "scars": scars, "weak": weak,
            "worse": worse, "crs": CRS, "origin": ORIGIN}  # fmt: skip


def review_by_truth(home: Path, area: dict[str, Any]) -> tuple[int, int]:
    """Review every landslide as a geologist with the ground truth would."""
    from rasterio.features import rasterize
    from rasterio.transform import from_origin
    from rasterio.warp import transform_geom

    from slidewatch.application.review import ReviewRequest, review_landslide
    from slidewatch.monitoring.kinds import Verdict
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Landslide

    scars, grid = area["scars"], from_origin(*area["origin"], 10, 10)
    counts = {Verdict.CONFIRMED: 0, Verdict.REJECTED: 0}
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        with registry.session() as s:
            slides = [(row.id, row.geometry) for row in s.query(Landslide).all()]
        for slide_id, geometry in slides:
            shape = transform_geom("EPSG:4326", area["crs"], geometry)
            inside = rasterize([shape], scars.shape, transform=grid, dtype="uint8").astype(bool)
            true = inside.any() and scars[inside].mean() >= CONFIRM_OVERLAP
            verdict = Verdict.CONFIRMED if true else Verdict.REJECTED
            review_landslide(registry, ReviewRequest(slide_id, verdict, "test:geologist"))
            counts[verdict] += 1
    return counts[Verdict.CONFIRMED], counts[Verdict.REJECTED]


def correct_outlines(folder: Path, area: dict[str, Any], out: Path) -> Path:
    """What a reviewer does in ``slidewatch label``: redraw each window's outlines where the
    landslides really are (the model's polygons are its guesses), save, export."""
    from slidewatch.labeling.export import export_labeled
    from slidewatch.labeling.workspace import Workspace

    ws, scars = Workspace(folder), area["scars"]
    x0, y0 = area["origin"]
    index = json.loads((folder / "index.geojson").read_text())["features"]
    for feature in index:
        p = feature["properties"]
        col, row = round((p["bounds"][0] - x0) / 10), round((y0 - p["bounds"][3]) / 10)
        truth = np.zeros((128, 128), np.uint8)
        part = scars[max(row, 0) : row + 128, max(col, 0) : col + 128]
        truth[max(-row, 0) : max(-row, 0) + part.shape[0],
              max(-col, 0) : max(-col, 0) + part.shape[1]] = part  # fmt: skip
        key = p["image"].removesuffix(".h5")
        truth[~ws.image(key)[1].any(axis=-1)] = 0  # unseen ground stays 0
        ws.save(key, truth, (ws.store.states().get(key, None) and ws.store.states()[key].version)
                or 0, "save", "test:geologist", 30.0, False)  # fmt: skip
    return export_labeled(folder, out).out


def test_reviews_make_a_better_model_that_the_gate_lets_through(
    area: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.monitoring.model import SOURCE_BANDS

    root, home = area["root"], ["--home", str(area["root"] / "home")]
    sw("models", "add", str(area["weak"]), "--name", "weak", *home)
    store = root / "home" / "models"
    sw("monitor", "add", "loop", "--aoi", str(area["aoi"]), "--model", str(store / "weak"),
       "--stac-url", str(area["catalog"]), "--bands", SOURCE_BANDS, "--min-new-area-m2", "0",
       *home)  # fmt: skip
    first = sw("monitor", "run-once", "--now", "2023-03-03T00:00:00Z", *home)
    assert "2023-03-01 done" in " ".join(first.split())

    confirmed, rejected = review_by_truth(root / "home", area)
    assert confirmed >= 3 and rejected >= 3  # a weak model: real ones and false alarms

    reviewed = root / "reviewed"
    exported = sw("monitor", "export-reviews", "loop", "--out", str(reviewed), *home)
    assert "confirmed" in exported and "rejected" in exported
    again = sw("monitor", "export-reviews", "--out", str(reviewed), *home)
    assert again.startswith("wrote nothing new") and "already exported" in again  # idempotent
    check = sw("data", "check", str(reviewed))
    assert " 0 errors" in check
    index = json.loads((reviewed / "index.geojson").read_text())
    verdicts = {r["verdict"] for f in index["features"] for r in f["properties"]["reviews"]}
    assert verdicts == {"confirmed", "rejected"}

    reviewed = correct_outlines(reviewed, area, root / "corrected")
    assert " 0 errors" in sw("data", "check", str(reviewed))
    held = sw("models", "benchmark", str(reviewed), "--aoi", "loop", "--hold-out", "0.3", *home)
    assert "benchmark" in held
    split = json.loads((reviewed / "split.json").read_text())
    _no_leaks(reviewed, split)

    tuned_run = root / "tuned"
    sw("train", "--data", str(reviewed), "--split", str(reviewed / "split.json"),
       "--init-from", str(store / "weak"), "--epochs", "20", "--lr", "1e-3", "--batch-size",
       "4", "--seed", "1", "--out", str(tuned_run), "--quiet")  # fmt: skip
    sw("models", "add", str(tuned_run / "model"), "--name", "tuned", *home)
    sw("models", "add", str(area["worse"]), "--name", "worse", *home)

    out = root / "compare.json"
    shown = sw("models", "compare", "tuned", "--against", "weak", "--data", str(reviewed),
               "--out", str(out), "--engine", "onnx", *home)  # fmt: skip
    result = json.loads(out.read_text())
    before, after = result["current"]["pixel"]["f1"], result["new"]["pixel"]["f1"]
    with capsys.disabled():
        print(
            f"\nbenchmark F1 ({result['patches']} held-out patches): weak {before:.3f} → "
            f"fine-tuned {after:.3f} (difference {result['f1_difference']:+.3f}, 95 % "
            f"{result['interval'][0]:+.3f}..{result['interval'][1]:+.3f}, "
            f"{result['verdict']})"
        )
    assert after > before and result["verdict"] != "worse", shown

    refused = sw("models", "promote", "worse", "--aoi", "loop", "--engine", "onnx", *home,
                 code=2)  # fmt: skip
    assert "is worse than 'weak'" in refused and "keeps its model" in refused
    promoted = sw("models", "promote", "tuned", "--aoi", "loop", "--engine", "onnx", *home)
    assert "AOI loop: weak → tuned" in promoted
    log = [json.loads(line) for line in (store / "promotions.jsonl").read_text().splitlines()]
    assert [(p["to"]["name"], p["forced"]) for p in log] == [("tuned", False)]
    listed = json.loads(sw("models", "list", "--json", *home))
    tuned = next(v for v in listed if v["name"] == "tuned")
    assert (
        tuned["benchmark_f1"] == pytest.approx(after) and tuned["reviews"] == confirmed + rejected
    )

    second = sw("monitor", "run-once", "--now", "2023-03-08T00:00:00Z", *home)
    assert "2023-03-06 done" in " ".join(second.split())
    history = sw("monitor", "history", "loop", *home)
    assert "[model weak" in history and "[model tuned" in history
    runs = json.loads(sw("monitor", "history", "loop", "--json", *home))
    assert [r["model"]["name"] for r in runs] == ["weak", "tuned"]
    assert runs[1]["model"]["benchmark_f1"] == pytest.approx(after)
    # the promoted model's first run compares with the first acquisition detected again by
    # it (its outlines differ from the weak model's, which is no news about the ground)
    assert "previous acquisition detected again" in history
    assert runs[1]["redetected_previous"] and not runs[1]["model_baseline"]
    _alerts_carry_the_version(root / "home")


def _alerts_carry_the_version(home: Path) -> None:
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Alert, Run

    with Registry(f"sqlite:///{home / 'registry.db'}") as registry, registry.session() as s:
        for alert in s.query(Alert).all():
            run = s.get_one(Run, alert.run_id)
            assert alert.payload["data"]["model"]["name"] == run.stats["model"]["name"]
            assert alert.payload["data"]["model"]["hash"] == run.stats["model"]["hash"]


def _no_leaks(folder: Path, split: dict[str, list[str]]) -> None:
    """No landslide and no overlapping window on both sides of the benchmark split."""
    from shapely.geometry import box

    index = {f["id"]: f["properties"] for f in json.loads((folder / "index.geojson")
             .read_text())["features"]}  # fmt: skip

    def side(name: str) -> list[dict[str, Any]]:
        return [index[key.rsplit("/", 1)[-1]] for key in split.get(name, [])]

    bench = side("benchmark")
    trained = side("train") + side("val")
    assert bench and trained
    assert not {g for p in bench for g in p["groups"]} & {g for p in trained for g in p["groups"]}
    for a in bench:
        for b in trained:
            assert box(*a["bounds"]).intersection(box(*b["bounds"])).area == 0
