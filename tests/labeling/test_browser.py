"""The labeling page in a real headless Chromium: draw with the mouse, save, undo, reload.

The expected masks are computed here from the mouse coordinates sent, with the rules of
docs/labeling.md (brush disc, line stamping, polygon pixel centres) written independently
of the page's JavaScript (the polygon test uses matplotlib's point-in-polygon).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from slidewatch.data.hdf5 import read_mask


def disc(radius: float) -> list[tuple[int, int]]:
    k = math.ceil(radius)
    return [
        (dr, dc)
        for dr in range(-k, k + 1)
        for dc in range(-k, k + 1)
        if dr * dr + dc * dc <= radius * radius
    ]


def expected_stroke(cells: list[tuple[int, int]], size: int, shape: tuple[int, int]) -> np.ndarray:
    """Brush rule: a disc of diameter ``size`` stamped on the line cells between positions."""
    out = np.zeros(shape, dtype=np.uint8)
    footprint = disc((size - 1) / 2)
    stamps = [cells[0]]
    for (c0, r0), (c1, r1) in itertools.pairwise(cells):
        n = max(abs(c1 - c0), abs(r1 - r0))
        stamps += [
            (c0 + math.floor((c1 - c0) * t / n + 0.5), r0 + math.floor((r1 - r0) * t / n + 0.5))
            for t in range(n + 1)
        ]
    for c, r in stamps:
        for dr, dc in footprint:
            if 0 <= r + dr < shape[0] and 0 <= c + dc < shape[1]:
                out[r + dr, c + dc] = 1
    return out


def expected_polygon(vertices: list[tuple[float, float]], shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centre is inside the polygon (matplotlib's point-in-polygon)."""
    from matplotlib.path import Path as MplPath

    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    centres = np.column_stack([cols.ravel() + 0.5, rows.ravel() + 0.5])
    inside = MplPath(vertices).contains_points(centres)
    return inside.reshape(shape).astype(np.uint8)


def geometry(page: Any) -> dict[str, float]:
    return page.evaluate(
        """() => { const r = document.getElementById('canvas').getBoundingClientRect();
        return {left: r.left, top: r.top, zoom: labeler.zoom, margin: labeler.margin,
                size: labeler.size, width: labeler.width, height: labeler.height}; }"""
    )


def at_cell(g: dict[str, float], col: int, row: int) -> tuple[float, float]:
    """Viewport position of the centre of patch pixel (row, col)."""
    z, m = g["zoom"], g["margin"]
    return g["left"] + (col + m + 0.5) * z, g["top"] + (row + m + 0.5) * z


def polygon_click(g: dict[str, float], x: float, y: float) -> tuple[int, int]:
    """Whole viewport pixels nearest to patch position (x, y) in pixel units."""
    z, m = g["zoom"], g["margin"]
    return round(g["left"] + (x + m) * z), round(g["top"] + (y + m) * z)


def vertex_of(g: dict[str, float], x: int, y: int) -> tuple[float, float]:
    """The patch position (pixel units) of viewport position (x, y): the page's rule."""
    return (x - g["left"]) / g["zoom"] - g["margin"], (y - g["top"]) / g["zoom"] - g["margin"]


def assert_not_degenerate(vertices: list[tuple[float, float]]) -> None:
    """No pixel centre on an edge, no vertex on a centre row: the two rasterisers agree."""
    for _x, y in vertices:
        assert abs((y % 1) - 0.5) > 1e-6, vertices
    rows, cols = np.mgrid[0:128, 0:128] + 0.5
    for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        cross = (x1 - x0) * (rows - y0) - (y1 - y0) * (cols - x0)
        assert np.abs(cross).min() > 1e-6, vertices


def page_mask(page: Any, side: int = 128) -> np.ndarray:
    values = page.evaluate("() => Array.from(labeler.mask)")
    return np.array(values, dtype=np.uint8).reshape(side, side)


def save_and_wait(page: Any, version: int) -> None:
    page.click("#save")
    page.wait_for_function(f"() => labeler.version === {version}", timeout=20_000)


def stroke(page: Any, g: dict[str, float], cells: list[tuple[int, int]]) -> None:
    page.mouse.move(*at_cell(g, *cells[0]))
    page.mouse.down()
    for cell in cells[1:]:
        page.mouse.move(*at_cell(g, *cell))
    page.mouse.up()


@pytest.mark.realdata
def test_draw_save_undo_reload_on_a_real_patch(
    real_copy: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    base = serve({"real": real_copy})
    page = browser_page(f"{base}/label?dataset=real")
    assert page.evaluate("() => labeler.key") == "img/image_1"
    g = geometry(page)
    assert g["margin"] == 0  # no build-patches index: the patch alone, and the page says so
    assert "patch shown alone" in page.inner_text("#info")
    shape = (int(g["height"]), int(g["width"]))

    # a brush stroke: right along a row, a 45° diagonal, then a shallow slope
    cells = [(c, 20) for c in range(10, 41, 3)] + [(45, 25), (50, 30), (57, 33), (63, 36)]
    stroke(page, g, cells)
    brush = expected_stroke(cells, int(g["size"]), shape)

    # a polygon: vertices at pointer positions (pixel units), closed on the first vertex
    page.keyboard.press("p")
    clicks = [polygon_click(g, x, y) for x, y in [(27.3, 70.2), (72.4, 76.1), (62.2, 110.3),
                                                  (31.1, 100.4)]]  # fmt: skip
    vertices = [vertex_of(g, x, y) for x, y in clicks]
    assert_not_degenerate(vertices)
    for x, y in clicks:
        page.mouse.click(x, y)
    page.mouse.click(clicks[0][0] + 2, clicks[0][1] + 1)  # near the first vertex: closes
    polygon = expected_polygon(vertices, shape)
    assert polygon.sum() > 500 and brush.sum() > 100

    expected = brush | polygon
    assert (page_mask(page) == expected).all()
    save_and_wait(page, 1)
    saved = read_mask(real_copy / "mask" / "mask_1.h5")
    assert saved.shape == (128, 128) and saved.dtype == np.uint8
    assert (saved == expected).all()

    # another stroke, then undo: the mask is back to what was saved
    page.keyboard.press("b")
    stroke(page, g, [(100, 10), (120, 10)])
    assert page_mask(page).sum() > expected.sum()
    page.keyboard.press("Control+z")
    assert (page_mask(page) == expected).all()
    save_and_wait(page, 2)
    assert (read_mask(real_copy / "mask" / "mask_1.h5") == expected).all()

    # reload: the saved mask comes back, the patch is listed as done
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click("#patch-list li[data-key='img/image_1']")
    page.wait_for_function("() => labeler.key === 'img/image_1' && labeler.version === 2")
    assert (page_mask(page) == expected).all()
    assert "1 / 3 done" in page.inner_text("#progress-text")


def test_a_four_band_patch_offers_no_swir(
    four_band: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    base = serve({"rgbn": four_band})
    page = browser_page(f"{base}/label?dataset=rgbn")
    options = page.eval_on_selector_all("#combo option", "os => os.map(o => o.value)")
    assert options == ["true-colour", "false-colour", "ndvi"]


def test_two_annotators_on_one_patch_get_a_conflict_not_an_overwrite(
    generated: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    base = serve({"gen": generated})
    first = browser_page(f"{base}/label?dataset=gen")
    second = browser_page(f"{base}/label?dataset=gen")
    for page, name in ((first, "ana"), (second, "bob")):
        assert page.evaluate("() => labeler.key") == "img/image_1"
        page.fill("#annotator", name)
    g = geometry(first)
    stroke(first, g, [(5, 5), (20, 5)])
    save_and_wait(first, 1)
    ana = read_mask(generated / "mask" / "mask_1.h5")
    g = geometry(second)
    stroke(second, g, [(5, 25), (25, 25)])
    second.click("#save")
    second.wait_for_selector("#conflict:not([hidden])")
    assert "saved by ana" in second.inner_text("#conflict-text")
    assert (read_mask(generated / "mask" / "mask_1.h5") == ana).all()  # not overwritten
    kept = list((generated / ".slidewatch-labels" / "conflicts").iterdir())
    assert len(kept) == 1 and read_mask(kept[0])[25, 10] == 1  # bob's mask is kept
    second.click("#conflict-theirs")
    assert (page_mask(second, 32) == ana).all()


def test_without_a_dataset_the_page_lists_them(
    generated: Path, four_band: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    base = serve({"gen": generated, "rgbn": four_band})
    page = browser_page(f"{base}/label")
    assert page.eval_on_selector_all("#patch-list a", "as => as.map(a => a.textContent)") == [
        "gen", "rgbn",
    ]  # fmt: skip
    page.click("text=rgbn")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("() => labeler.key === 'img/image_1'")
    assert page.inner_text("#dataset-name") == "rgbn"


def test_a_server_that_needs_a_key_for_saves_gets_it_from_the_page(
    generated: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    from fastapi import Depends, FastAPI, Header, HTTPException

    from slidewatch.service.labeling import LabelDatasets, labeling_router

    def needs_key(x_api_key: str = Header(default="")) -> None:
        if x_api_key != "k3y":
            raise HTTPException(401 if not x_api_key else 403, "X-API-Key needed")

    app = FastAPI()
    guard = [Depends(needs_key)]
    app.include_router(labeling_router(LabelDatasets({"gen": generated}), write_dependencies=guard))
    page = browser_page(serve({}, app=app) + "/label?dataset=gen")
    stroke(page, geometry(page), [(3, 3), (9, 3)])
    page.click("#save")
    page.wait_for_selector("#api-key:not([hidden])")
    assert "needs an API key" in page.inner_text("#banner")
    assert not (generated / "mask" / "mask_1.h5").exists()
    page.fill("#api-key", "k3y")
    save_and_wait(page, 1)
    assert read_mask(generated / "mask" / "mask_1.h5")[3, 6] == 1


def test_context_view_drawing_lands_on_the_patch_pixels(
    tmp_path: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    from tests.labeling.test_context import write_scene

    from slidewatch.data.build import build_patches

    write_scene(tmp_path / "scene.tif")
    build_patches(tmp_path / "scene.tif", None, tmp_path / "built", size=32, progress=False)
    page = browser_page(serve({"built": tmp_path / "built"}) + "/label?dataset=built")
    g = geometry(page)
    assert g["margin"] == 32 and "context from" in page.inner_text("#info")
    assert page.evaluate("() => [canvas.width, labeler.view.naturalWidth]") == [
        96 * g["zoom"], 96,
    ]  # fmt: skip
    cells = [(-5, 10), (3, 10), (12, 18)]  # starts in the context: only patch pixels count
    stroke(page, g, cells)
    expected = expected_stroke(cells, int(g["size"]), (32, 32))
    save_and_wait(page, 1)
    saved = read_mask(tmp_path / "built" / "mask" / "mask_1.h5")
    assert saved.shape == (32, 32) and (saved == expected).all() and saved[10, 0] == 1


def test_fill_eraser_redo_and_clear(
    generated: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    page = browser_page(serve({"gen": generated}) + "/label?dataset=gen")
    g = geometry(page)
    page.keyboard.press("[")
    page.keyboard.press("[")  # diameter 1: single pixels
    assert page.evaluate("() => labeler.size") == 1
    stroke(page, g, [(4, 4), (20, 4), (20, 14), (4, 14), (4, 4)])  # a closed outline
    outline = page_mask(page, 32)
    assert outline.sum() == 2 * 17 + 2 * 9
    page.keyboard.press("f")
    page.mouse.click(*at_cell(g, 10, 8))  # inside the outline
    filled = np.zeros((32, 32), np.uint8)
    filled[4:15, 4:21] = 1
    assert (page_mask(page, 32) == filled).all()
    page.keyboard.press("e")
    page.keyboard.press("]")  # diameter 3
    stroke(page, g, [(10, 8), (10, 8)])
    erased = filled.copy()
    erased[7:10, 10] = erased[8, 9:12] = 0  # the diameter-3 disc is a plus
    assert (page_mask(page, 32) == erased).all()
    page.keyboard.press("Control+z")
    assert (page_mask(page, 32) == filled).all()
    page.keyboard.press("Control+y")
    assert (page_mask(page, 32) == erased).all()
    page.keyboard.press("Shift+C")
    assert page_mask(page, 32).sum() == 0
    page.keyboard.press("Control+z")
    assert (page_mask(page, 32) == erased).all()


def test_a_reviewed_patch_shows_the_window_before_the_event_beside_it(
    four_band: Path, serve: Callable[..., str], browser_page: Callable[[str], Any]
) -> None:
    from slidewatch.data.hdf5 import read_bands, read_image, write_image

    image = four_band / "img" / "image_1.h5"
    write_image(four_band / "pre" / "image_1.h5", read_image(image) * 0.5, read_bands(image))
    page = browser_page(f"{serve({'rgbn': four_band})}/label?dataset=rgbn")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#patch-list li[data-key='img/image_1']")
    page.wait_for_function(
        """() => { const f = document.getElementById('pre-figure'),
                   i = document.getElementById('pre-view');
                   return labeler.key === 'img/image_1' && !f.hidden && i.complete
                          && i.naturalWidth === 32; }"""
    )
    shown, drawn = page.evaluate(
        "() => [document.getElementById('pre-view').width, labeler.width * labeler.zoom]"
    )
    assert shown == drawn > 32  # side by side, at the drawing's scale
    page.click("#patch-list li[data-key='img/image_2']")
    page.wait_for_function(
        "() => labeler.key === 'img/image_2' && document.getElementById('pre-figure').hidden"
    )
