"""The web map as a responder uses it, in a real headless Chromium against a real uvicorn
server on 127.0.0.1 (every other request refused): the legend, the alert list newest first,
a click on an alert opens its landslide, a review changes it, downloads, the deep link, the
overview of all AOIs, run now with its progress. Screenshots go to /tmp/e18-*.png."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.offline_browser import offline_chromium
from tests.service.conftest import LiveServer, settings_for
from tests.service.pipeline_fixture import AOI_NAME, DATES, Fixture

from slidewatch.service.app import create_app

KEY = "reviewer-key-0123456789"
GREY = np.array([140, 140, 140])
SHOTS = Path("/tmp")


@pytest.fixture
def server(monitored: Fixture, tmp_path: Path) -> Iterator[LiveServer]:
    """A server over a copy of the monitored home (reviews and runs write), reading the
    products where they are."""
    home = tmp_path / "home"
    shutil.copytree(monitored.home, home, ignore=shutil.ignore_patterns("archive", "work"))
    settings = settings_for(monitored, home=home, db_url=f"sqlite:///{home / 'registry.db'}",
                            api_keys=f"maria:{KEY}")  # fmt: skip
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
def browser(chromium_path: str, server: LiveServer) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    """The shared offline Chromium (127.0.0.1 only); the prompt for the key answered."""
    with offline_chromium(chromium_path, 1200, 820, console_errors=True) as guarded:
        yield guarded, {"errors": guarded.errors, "refused": guarded.refused, "prompts": []}


def _tab(browser: Any, seen: dict[str, list[str]], url: str) -> Any:
    tab = browser.context.new_page()
    tab.on("pageerror", lambda e: seen["errors"].append(str(e)))
    tab.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)

    def dialog(d: Any) -> None:
        seen["prompts"].append(d.message)
        d.accept(KEY)

    tab.on("dialog", dialog)
    tab.goto(url)
    tab.wait_for_selector("body[data-state=idle]", timeout=60_000)
    return tab


def _pixel_at(tab: Any, lonlat: tuple[float, float]) -> np.ndarray:
    png = tab.locator("#map").screenshot()
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    project = "([x, y]) => { const p = slidewatch.map.project([x, y]); return [p.x, p.y]; }"
    x, y = tab.evaluate(project, list(lonlat))
    return image[int(y), int(x)]


def _inside(tab: Any, landslide_id: int) -> tuple[float, float]:
    from shapely.geometry import shape

    features = tab.evaluate("slidewatch.state.detections.features")
    (feature,) = [f for f in features if f["properties"]["landslide_id"] == landslide_id]
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


def test_alert_click_review_and_see_it_change(
    browser: tuple[Any, dict[str, list[str]]], server: LiveServer, monitored: Fixture
) -> None:
    guarded, seen = browser
    tab = _tab(guarded, seen, server.url + "/")
    legend = tab.locator(".legend li").all_inner_texts()
    assert legend == ["landslide", "new", "grown", "confirmed", "possible (seen once)",
                      "rejected (reviewed)", "unknown (not seen)"]  # fmt: skip
    # the alert list: acquisition date, kind, confidence, area; newest first
    items = tab.locator("#alerts li")
    assert items.count() >= 1
    order = tab.evaluate("""() => [
        {id: 1, acquisition_date: '2023-03-01', area_m2: 9000},
        {id: 2, acquisition_date: '2023-03-06', area_m2: 100},
        {id: 3, acquisition_date: '2023-03-06', area_m2: 5000},
        {id: 4, acquisition_date: null, area_m2: 1}].sort(slidewatch.alertOrder).map(a => a.id)""")
    assert order == [3, 2, 1, 4]  # newest acquisition first, then the largest
    first = items.nth(0).inner_text()
    assert DATES[1] in first and "new" in first and "possible" in first and "m²" in first
    # downloads: one link per product, each one opens
    links = tab.locator("#downloads a")
    assert links.count() >= 5
    href = links.nth(0).get_attribute("href")
    assert tab.request.get(server.url + href).status == 200
    tab.screenshot(path=str(SHOTS / "e18-map-latest.png"))

    # a click on the alert zooms onto the landslide and opens its popup
    slide = int(items.nth(0).get_attribute("data-landslide"))
    items.nth(0).click()
    popup = tab.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=10_000)
    tab.wait_for_selector("body[data-state=idle]", timeout=30_000)
    assert f"#{slide}" in popup.inner_text() and "possible" in popup.inner_text()
    assert f"landslide={slide}" in tab.url
    assert tab.evaluate("slidewatch.map.getZoom()") > 14
    tab.screenshot(path=str(SHOTS / "e18-alert-popup.png"))

    # reject it with a note: the key is asked once, the popup, list and polygon change
    popup.locator(".note").fill("a road cut, not a landslide")
    popup.locator(".reject").click()
    tab.wait_for_selector(f"body[data-reviewed='{slide}']", timeout=30_000)
    text = tab.locator(".maplibregl-popup-content").inner_text()
    assert "rejected by maria" in text and "a road cut" in text, text
    assert "rejected" in tab.locator("#alerts li").nth(0).get_attribute("class")
    tab.wait_for_function("slidewatch.map.loaded() && slidewatch.map.areTilesLoaded()")
    tab.wait_for_timeout(300)
    pixel = _pixel_at(tab, _inside(tab, slide))
    assert np.abs(pixel - GREY).max() <= 12, pixel
    tab.screenshot(path=str(SHOTS / "e18-reviewed.png"))
    # a second review (confirm) needs no second prompt
    tab.locator(".maplibregl-popup-content .confirm").click()
    tab.wait_for_function(
        "document.querySelector('.maplibregl-popup-content').innerText.includes('confirmed by')"
    )
    assert len(seen["prompts"]) == 1
    assert seen["errors"] == [] and seen["refused"] == []


def test_deep_link_overview_and_run_now(
    browser: tuple[Any, dict[str, list[str]]], server: LiveServer, monitored: Fixture
) -> None:
    guarded, seen = browser
    first_run = monitored.run_ids[0]
    tab = _tab(guarded, seen, f"{server.url}/?aoi={AOI_NAME}&run={first_run}")
    slide = tab.evaluate("slidewatch.state.detections.features[0].properties.landslide_id")
    tab.close()
    # the deep link opens that landslide of that run
    tab = _tab(guarded, seen, f"{server.url}/?aoi={AOI_NAME}&run={first_run}&landslide={slide}")
    tab.locator(".maplibregl-popup-content").wait_for(timeout=10_000)
    assert tab.evaluate("document.body.dataset.runId") == str(first_run)
    assert f"#{slide}" in tab.locator(".maplibregl-popup-content").inner_text()
    tab.screenshot(path=str(SHOTS / "e18-deep-link.png"))

    # the overview of all AOIs
    tab.select_option("#aoi", "")
    tab.wait_for_selector("#overview:not([hidden])")
    assert tab.locator("#aoi-list li").all_inner_texts()[0].startswith(AOI_NAME)
    tab.wait_for_function("document.querySelector('#aoi-list .latest').innerText !== ''")
    latest = tab.locator("#aoi-list .latest").inner_text()
    assert latest == f"last run {DATES[1]} done, 1 new, 0 grown", latest
    tab.screenshot(path=str(SHOTS / "e18-overview.png"))
    tab.locator("#aoi-list a").first.click()
    tab.wait_for_selector("#aoi-view:not([hidden])")
    # the runs list marks where the model version changed: the first run names its model
    tab.wait_for_selector("#runs li")
    runs_listed = tab.locator("#runs li").all_inner_texts()
    assert " · model " in runs_listed[-1], runs_listed
    assert not any(" · model " in r for r in runs_listed[:-1]), runs_listed

    # run now: the key, the run's progress to its end, the run listed with its reason
    tab.wait_for_selector("body[data-state=idle]", timeout=60_000)
    tab.locator("#run-now").click()
    tab.wait_for_selector("body[data-run-now]", timeout=30_000)
    run_id = tab.evaluate("document.body.dataset.runNow")
    tab.wait_for_function(
        "/ (done|skipped|failed)/.test(document.getElementById('run-progress').innerText)",
        timeout=300_000,
    )
    progress = tab.locator("#run-progress").inner_text()
    tab.wait_for_selector(f"#runs li[data-run-id='{run_id}']", timeout=30_000)
    listed = tab.locator(f"#runs li[data-run-id='{run_id}']").inner_text()
    # the look found nothing after the second date: a skipped run, with its reason
    assert progress.startswith(f"run #{run_id} skipped: no new acquisition"), progress
    assert listed.startswith(f"#{run_id} – skipped: no new acquisition"), listed
    tab.screenshot(path=str(SHOTS / "e18-run-now.png"))
    assert seen["prompts"] and seen["errors"] == [] and seen["refused"] == []
