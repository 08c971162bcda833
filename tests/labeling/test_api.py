"""The labeling API through httpx (FastAPI's TestClient): list, views, suggestion, save,
conflicts and what a client can get wrong."""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from slidewatch.data.check import check_dataset
from slidewatch.data.hdf5 import read_image, read_mask
from slidewatch.labeling.views import render, to_uint8
from slidewatch.service.labeling import LabelDatasets, label_app


def client(folders: dict[str, Path], models: dict[str, Path] | None = None) -> TestClient:
    return TestClient(label_app(LabelDatasets(folders, models, annotator="tester")))


def b64(mask: np.ndarray) -> str:
    return base64.b64encode(mask.astype(np.uint8).tobytes()).decode()


def body(mask: np.ndarray, version: int, annotator: str = "ana", **kw: object) -> dict:
    h, w = mask.shape
    return {"mask": b64(mask), "height": h, "width": w, "base_version": version,
            "annotator": annotator, "seconds": 30.0, **kw}  # fmt: skip


def test_list_shows_states_and_progress(generated: Path) -> None:
    c = client({"gen": generated})
    listing = c.get("/label/api/gen/patches").json()
    assert [p["key"] for p in listing["patches"]] == [f"img/image_{i}" for i in range(1, 5)]
    assert {p["state"] for p in listing["patches"]} == {"unlabeled"}
    assert listing["progress"]["total"] == 4 and listing["progress"]["done"] == 0
    assert c.get("/label/api/datasets").json()["datasets"] == ["gen"]


def test_view_png_is_the_band_combination(real_copy: Path) -> None:
    from PIL import Image

    c = client({"real": real_copy})
    r = c.get("/label/api/real/view/false-colour/img/image_1?low=1&high=99")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    pixels = np.asarray(Image.open(BytesIO(r.content)))
    image = read_image(real_copy / "img" / "image_1.h5")
    expected = to_uint8(render(image, tuple(c.get("/label/api/real/patch/img/image_1")
                                            .json()["bands"]), "false-colour", 1, 99))  # fmt: skip
    assert pixels.shape == (128, 128, 3) and (pixels == expected).all()
    assert c.get("/label/api/real/view/hillshade/img/image_1").status_code == 200


def test_save_then_conflict_keeps_both_and_passes_data_check(real_copy: Path) -> None:
    c = client({"real": real_copy})
    image_bytes = (real_copy / "img" / "image_16.h5").read_bytes()
    start = c.get("/label/api/real/mask/img/image_16").json()
    assert (start["version"], start["source"], start["state"]) == (0, "empty", "unlabeled")
    mine = np.zeros((128, 128), np.uint8)
    mine[10:20, 30:50] = 1
    saved = c.put("/label/api/real/mask/img/image_16", json=body(mine, 0))
    assert saved.status_code == 200 and saved.json()["version"] == 1
    theirs = np.ones((128, 128), np.uint8)
    late = c.put("/label/api/real/mask/img/image_16", json=body(theirs, 0, "bob"))
    assert late.status_code == 409
    conflict = late.json()
    assert conflict["current"]["annotator"] == "ana" and conflict["current"]["version"] == 1
    current = np.frombuffer(base64.b64decode(conflict["current"]["mask"]), np.uint8)
    assert (current.reshape(128, 128) == mine).all()
    assert (read_mask(real_copy / conflict["kept"]) == theirs).all()
    assert (read_mask(real_copy / "mask" / "mask_16.h5") == mine).all()
    listing = c.get("/label/api/real/patches").json()
    assert listing["progress"]["done"] == 1
    report = check_dataset(real_copy)
    assert report.ok, report.issues
    again = c.put("/label/api/real/mask/img/image_16", json=body(theirs, 1, "bob"))
    assert again.status_code == 200 and again.json()["version"] == 2
    assert (real_copy / "img" / "image_16.h5").read_bytes() == image_bytes  # never written


def test_skip_and_draft_states(generated: Path) -> None:
    c = client({"gen": generated})
    skip = c.post("/label/api/gen/skip/img/image_1", json={"base_version": 0, "annotator": "a"})
    assert skip.status_code == 200
    draft = np.eye(32, dtype=np.uint8)
    r = c.put("/label/api/gen/mask/img/image_2", json=body(draft, 0, state="in_progress"))
    assert r.status_code == 200
    states = {p["key"]: p["state"] for p in c.get("/label/api/gen/patches").json()["patches"]}
    assert states == {"img/image_1": "skipped", "img/image_2": "in_progress",
                      "img/image_3": "unlabeled", "img/image_4": "unlabeled"}  # fmt: skip
    loaded = c.get("/label/api/gen/mask/img/image_2").json()
    assert loaded["source"] == "draft" and loaded["version"] == 1
    assert not (generated / "mask" / "mask_2.h5").exists()


def test_suggestion_from_the_onnx_model(four_band: Path, tiny_model: Path) -> None:
    from slidewatch.inference.engine import load_engine

    c = client({"rgbn": four_band}, {"rgbn": tiny_model})
    s = c.get("/label/api/rgbn/suggestion/img/image_1")
    assert s.status_code == 200
    got = s.json()
    engine = load_engine(tiny_model, engine="onnx")
    image = read_image(four_band / "img" / "image_1.h5")  # B2,B3,B4,B8 -> model's B4,B3,B2,B8
    batch = np.moveaxis(image[..., [2, 1, 0, 3]], -1, 0)[None]
    framed = np.pad(batch, ((0, 0), (0, 0), (32, 32), (32, 32)), mode="reflect")  # issue 21.5
    probability = engine.predict(framed)[0][32:-32, 32:-32]
    expected = (probability >= 0.5).astype(np.uint8)
    sent = np.frombuffer(base64.b64decode(got["mask"]), np.uint8).reshape(32, 32)
    assert (sent == expected).all()
    mean_pq = float((probability * (1 - probability)).mean())
    assert got["uncertainty"] == pytest.approx(mean_pq, 1e-5)
    start = c.get("/label/api/rgbn/mask/img/image_1").json()
    assert start["source"] == "suggestion"
    edited = expected.copy()
    edited[:4] = 1 - edited[:4]  # 128 of 1024 pixels changed
    saved = c.put("/label/api/rgbn/mask/img/image_1", json=body(edited, 0, from_suggestion=True))
    assert saved.json()["fraction_changed"] == pytest.approx(128 / 1024)
    order = c.get("/label/api/rgbn/patches?order=uncertain").json()["patches"]
    values = [p["uncertainty"] for p in order]
    assert values == sorted(values, reverse=True) and len(values) == 3


def test_folder_without_patches(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = client({"empty": tmp_path / "empty"}).get("/label/api/empty/patches")
    assert r.status_code == 422 and "no L4S patches found" in r.json()["detail"]


def test_corrupt_image_is_listed_with_its_error_and_the_rest_stay_labelable(
    generated: Path,
) -> None:
    (generated / "img" / "image_3.h5").write_bytes(b"not an hdf5 file at all")
    c = client({"gen": generated})
    rows = {p["key"]: p for p in c.get("/label/api/gen/patches").json()["patches"]}
    assert rows["img/image_3"]["state"] == "error" and "image_3.h5" in rows["img/image_3"]["error"]
    assert c.get("/label/api/gen/view/true-colour/img/image_3").status_code == 422
    assert c.get("/label/api/gen/view/true-colour/img/image_4").status_code == 200
    ok = c.put("/label/api/gen/mask/img/image_4", json=body(np.zeros((32, 32), np.uint8), 0))
    assert ok.status_code == 200


def test_mask_of_another_size_or_values_is_422(generated: Path) -> None:
    c = client({"gen": generated})
    r = c.put("/label/api/gen/mask/img/image_1", json=body(np.zeros((16, 16), np.uint8), 0))
    assert r.status_code == 422 and "16×16" in r.json()["detail"]
    r = c.put("/label/api/gen/mask/img/image_1", json=body(np.full((32, 32), 7, np.uint8), 0))
    assert r.status_code == 422
    wrong_length = {**body(np.zeros((32, 32), np.uint8), 0), "height": 31}
    assert c.put("/label/api/gen/mask/img/image_1", json=wrong_length).status_code == 422
    garbage = {**body(np.zeros((32, 32), np.uint8), 0), "mask": "***"}
    assert c.put("/label/api/gen/mask/img/image_1", json=garbage).status_code == 422
    assert not list(generated.rglob("mask_*.h5"))


@pytest.mark.parametrize(
    "path",
    [
        "/label/api/gen/patch/..%2F..%2Fetc%2Fpasswd",
        "/label/api/gen/mask/%2Fetc%2Fpasswd",
        "/label/api/gen/view/true-colour/img/image_1.h5",
        "/label/api/gen/view/true-colour/../gen/image_1",
        "/label/api/nosuch/patches",
        "/label/api/gen/view/swir-x/img/image_1",
        "/label/assets/..%2F..%2Flabeling.py",
    ],
)
def test_paths_outside_the_dataset_are_404(generated: Path, path: str) -> None:
    assert client({"gen": generated}).get(path).status_code == 404


def test_save_outside_the_dataset_is_404(generated: Path, tmp_path: Path) -> None:
    c = client({"gen": generated})
    r = c.put("/label/api/gen/mask/..%2Foutside", json=body(np.zeros((32, 32), np.uint8), 0))
    assert r.status_code == 404
    assert not (tmp_path / "outside").exists() and not list(tmp_path.glob("mask_*"))


def test_page_carries_the_dataset_and_its_assets(generated: Path) -> None:
    c = client({"gen": generated})
    page = c.get("/label?dataset=gen")
    assert page.status_code == 200 and '"dataset": "gen"' in page.text
    assert c.get("/label/assets/label.js").headers["content-type"].startswith("text/javascript")
    assert c.get("/").url.path == "/label"


def test_write_dependencies_guard_saves_only(generated: Path) -> None:
    from fastapi import Depends, FastAPI, Header, HTTPException

    from slidewatch.service.labeling import labeling_router

    def key(x_api_key: str = Header(default="")) -> None:
        if x_api_key != "secret":
            raise HTTPException(401, "give X-API-Key")

    app = FastAPI()
    datasets = LabelDatasets({"gen": generated})
    app.include_router(labeling_router(datasets, write_dependencies=[Depends(key)]))
    c = TestClient(app)
    assert c.get("/label/api/gen/patches").status_code == 200
    payload = body(np.zeros((32, 32), np.uint8), 0)
    assert c.put("/label/api/gen/mask/img/image_1", json=payload).status_code == 401
    ok = c.put("/label/api/gen/mask/img/image_1", json=payload, headers={"X-API-Key": "secret"})
    assert ok.status_code == 200


@pytest.mark.parametrize("layout", ["official", "huggingface"])
def test_saves_land_where_each_layout_keeps_masks(tmp_path: Path, layout: str) -> None:
    from slidewatch.data.layout import discover
    from slidewatch.synthetic import make_l4s_dataset

    root = make_l4s_dataset(tmp_path / layout, layout=layout, n=5, size=16, with_masks=False).root
    c = client({"d": root})
    keys = [p["key"] for p in c.get("/label/api/d/patches").json()["patches"]]
    mask = np.zeros((16, 16), np.uint8)
    mask[3:6, 3:6] = 1
    for key in keys:
        assert c.put(f"/label/api/d/mask/{key}", json=body(mask, 0)).status_code == 200
    refs = discover(root)
    assert all(r.mask is not None and (read_mask(r.mask) == mask).all() for r in refs)
    assert check_dataset(root).ok


def test_an_unreadable_or_wrong_size_stored_mask_starts_empty_and_says_why(
    generated: Path,
) -> None:
    from slidewatch.data.hdf5 import write_mask

    (generated / "mask").mkdir()
    (generated / "mask" / "mask_1.h5").write_bytes(b"garbage")
    write_mask(generated / "mask" / "mask_2.h5", np.ones((8, 8), np.uint8))
    c = client({"gen": generated})
    for n, why in ((1, "not a readable HDF5"), (2, "8×8")):
        start = c.get(f"/label/api/gen/mask/img/image_{n}").json()
        assert start["source"] == "empty" and why in start["problem"]
    fixed = np.eye(32, dtype=np.uint8)
    assert c.put("/label/api/gen/mask/img/image_2", json=body(fixed, 0)).status_code == 200
    assert (read_mask(generated / "mask" / "mask_2.h5") == fixed).all()
    history = list((generated / ".slidewatch-labels" / "history").iterdir())
    assert len(history) == 1 and read_mask(history[0]).shape == (8, 8)
