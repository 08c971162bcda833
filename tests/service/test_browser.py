"""The web map in a real headless Chromium (Debian's, driven by Playwright), against a real
uvicorn server on 127.0.0.1; every other request is refused by the test's router."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import shape
from tests.offline_browser import offline_chromium
from tests.service.conftest import LiveServer
from tests.service.pipeline_fixture import DATES, Fixture
from tests.service.test_counts import history_changes

from slidewatch.monitoring.registry import Registry

LANDSLIDE = np.array([230, 40, 20])
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def page(chromium_path: str, live: LiveServer) -> Iterator[tuple[Any, list[str], list[str]]]:
    with offline_chromium(chromium_path, 1100, 800, console_errors=True) as chromium:
        tab = chromium.open(live.url + "/")
        tab.wait_for_selector("body[data-state=idle]", timeout=60_000)
        yield tab, chromium.errors, chromium.refused


def _rendered_ids(tab: Any) -> set[int]:
    ids = tab.evaluate(
        "() => slidewatch.map.queryRenderedFeatures({layers: ['detections-fill']})"
        ".map(f => f.properties.id)"
    )
    return set(ids)


def _polygon_pixels(tab: Any) -> list[tuple[float, float]]:
    """Screen pixels of a point inside each of the current run's polygons."""
    features = tab.evaluate("slidewatch.state.detections.features")
    points = [shape(f["geometry"]).representative_point() for f in features]
    project = "([x, y]) => { const p = slidewatch.map.project([x, y]); return [p.x, p.y]; }"
    return [tuple(tab.evaluate(project, [pt.x, pt.y])) for pt in points]


def _counts(monitored: Fixture) -> list[int]:
    with Registry(monitored.db_url) as registry:
        return [len(registry.detections_geojson(r)["features"]) for r in monitored.run_ids]


def test_map_page_shows_runs_polygons_and_popups(
    page: tuple[Any, list[str], list[str]], monitored: Fixture
) -> None:
    tab, errors, refused = page
    assert errors == [] and refused == []
    assert tab.evaluate("document.body.dataset.runId") == str(monitored.run_ids[1])
    counts = _counts(monitored)
    assert len(_rendered_ids(tab)) == counts[1]
    assert tab.locator("#alerts li").count() == 1
    # the page's counts are `monitor history`'s
    shown = tab.locator("#counts").inner_text()
    history = history_changes(monitored)[monitored.run_ids[1]]
    for kind, n in history.items():
        assert f"{n} {kind}" in shown, (shown, history)

    # the landslide colour where the polygons are, in a saved screenshot
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = tab.locator("#map").screenshot(path=str(SCREENSHOTS / "map-latest-run.png"))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    map_box = tab.locator("#map").bounding_box()
    for x, y in _polygon_pixels(tab):
        pixel = image[int(y), int(x)]
        assert np.abs(pixel - LANDSLIDE).max() <= 12, (x, y, pixel)
        assert 0 <= x < map_box["width"] and 0 <= y < map_box["height"]

    # the slider switches to the first run and its two polygons
    tab.evaluate("""() => { const s = document.getElementById('run'); s.value = '0';
                            s.dispatchEvent(new Event('input')); }""")
    tab.wait_for_function(f"document.body.dataset.runId === '{monitored.run_ids[0]}'")
    tab.wait_for_selector("body[data-state=idle]", timeout=60_000)
    assert len(_rendered_ids(tab)) == counts[0]

    # a click on a polygon shows its area, probability and dates
    x, y = _polygon_pixels(tab)[0]
    props = tab.evaluate("slidewatch.state.detections.features[0].properties")
    tab.mouse.click(map_box["x"] + x, map_box["y"] + y)
    popup = tab.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert f"{round(props['area_m2']):,} m²" in text
    assert f"{props['mean_probability']:.2f}" in text and DATES[0] in text
    assert "S2A_EXAMPLE_20230301" in text
    tab.locator("#map").screenshot(path=str(SCREENSHOTS / "map-first-run-popup.png"))

    # the probability layer switches on
    tab.check("#show-probability")
    assert (
        tab.evaluate("slidewatch.map.getLayoutProperty('probability', 'visibility')") == "visible"
    )
    tab.locator(".maplibregl-popup-close-button").click()
    tab.wait_for_function("slidewatch.map.loaded() && slidewatch.map.areTilesLoaded()")
    tab.locator("#map").screenshot(path=str(SCREENSHOTS / "map-first-run-probability.png"))
    assert errors == [] and refused == []
