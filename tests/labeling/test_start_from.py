"""Issue 21, item 7: labeling starts from the old mask. ``--start-from suggestion|mask``
(default: the stored mask where one exists, said on start) and re-opening done patches for
review, through the library, the API, the command line and the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from slidewatch.cli import cli
from slidewatch.data.hdf5 import read_mask
from slidewatch.errors import DatasetError
from slidewatch.labeling.export import export_labeled
from slidewatch.labeling.workspace import Workspace
from slidewatch.service.labeling import LabelDatasets, label_app
from slidewatch.synthetic import make_l4s_dataset

from .test_browser import page_mask


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """Three 32×32 B2,B3,B4,B8 patches that came with masks (as built with labels)."""
    return make_l4s_dataset(tmp_path / "built", n=3, size=32, seed=6, bands="B2,B3,B4,B8").root


def test_default_starts_from_the_stored_mask_and_suggestion_from_the_model(
    labelled: Path, tiny_model: Path
) -> None:
    stored = read_mask(labelled / "mask" / "mask_1.h5")
    default = Workspace(labelled, tiny_model)
    assert default.start_mask("img/image_1").source == "dataset"
    assert "stored mask where one exists (3 of 3)" in default.start_summary()
    ws = Workspace(labelled, tiny_model, start_from="suggestion")
    start = ws.start_mask("img/image_1")
    assert start.source == "suggestion" and start.state == "done"
    assert (start.mask == ws.suggestion("img/image_1").mask).all()
    assert (ws.start_mask("img/image_1", "mask").mask == stored).all()  # one click away
    assert "open with the model's suggestion (3)" in ws.start_summary()
    with pytest.raises(DatasetError, match="needs a model"):
        Workspace(labelled, start_from="suggestion")


def test_reopening_a_done_patch_puts_it_back_for_review(labelled: Path, tmp_path: Path) -> None:
    ws = Workspace(labelled)
    entry = ws.reopen("img/image_2", 0, "rev")
    assert entry.action == "reopen" and entry.version == 1
    listing = {r["key"]: r["state"] for r in ws.listing()["patches"]}
    assert listing == {"img/image_1": "done", "img/image_2": "in_progress", "img/image_3": "done"}
    assert ws.start_mask("img/image_2").source == "dataset"  # the stored mask to review
    assert export_labeled(labelled, tmp_path / "out").patches == 2  # not done: left out
    with pytest.raises(DatasetError, match="not done"):
        ws.reopen("img/image_2", 1, "rev")
    ws.save("img/image_2", np.ones((32, 32), np.uint8), 1, "save", "rev", 3.0, False)
    assert ws.listing()["progress"]["done"] == 3


def test_the_api_starts_where_asked_and_reopens(labelled: Path, tiny_model: Path) -> None:
    datasets = LabelDatasets({"b": labelled}, {"b": tiny_model}, "t", start_from="suggestion")
    c = TestClient(label_app(datasets))
    assert c.get("/label/api/b/mask/img/image_1").json()["source"] == "suggestion"
    assert c.get("/label/api/b/mask/img/image_1?start_from=mask").json()["source"] == "dataset"
    assert c.get("/label/api/b/mask/img/image_1?start_from=nonsense").status_code == 422
    reopened = c.post("/label/api/b/reopen/img/image_3", json={"base_version": 0})
    assert reopened.status_code == 200 and reopened.json()["version"] == 1
    again = c.post("/label/api/b/reopen/img/image_3", json={"base_version": 1})
    assert again.status_code == 422 and "in progress, not done" in again.json()["detail"]


def test_cli_reopen_and_a_start_from_suggestion_without_model(labelled: Path) -> None:
    result = CliRunner().invoke(cli, ["label", "reopen", str(labelled), "--all-done"])
    assert result.exit_code == 0, result.output
    assert "3 patches re-opened for review" in result.output
    refused = CliRunner().invoke(cli, ["label", str(labelled), "--start-from", "suggestion"])
    assert refused.exit_code == 2 and "needs a model" in refused.output


def test_the_page_switches_start_and_reopens(
    labelled: Path,
    tiny_model: Path,
    serve: Callable[..., str],
    browser_page: Callable[[str], Any],
) -> None:
    datasets = LabelDatasets({"b": labelled}, {"b": tiny_model}, "t", start_from="suggestion")
    page = browser_page(f"{serve({}, app=label_app(datasets))}/label?dataset=b")
    assert page.evaluate("() => labeler.source") == "suggestion"
    assert "SUGGESTION" in page.inner_text("#banner")
    page.click("#start-other")  # "Load stored mask"
    page.wait_for_function("() => labeler.source === 'dataset'")
    stored = read_mask(labelled / "mask" / f"mask_{page.evaluate('() => labeler.key')[-1]}.h5")
    assert (page_mask(page, 32) == stored).all()
    page.click("#reopen")
    page.wait_for_function("() => $('banner').textContent.includes('re-opened for review')")
    assert page.evaluate("() => labeler.meta.state") == "in_progress"
    assert page.is_hidden("#reopen")
