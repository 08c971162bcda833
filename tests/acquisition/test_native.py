"""20/60 m bands loaded on their own grid and repeated onto the 10 m stack grid: the grid
rule (same CRS, pixel edges on the stack's) and the repetition against a direct
nearest-neighbour lookup."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pystac
import pytest
from affine import Affine
from odc.geo.geobox import GeoBox

from slidewatch.acquisition.stac.items import ParsedItem, parse_item
from slidewatch.acquisition.stac.native import native_grid, repeat_onto, split_by_grid

FINE = GeoBox((50, 70), Affine(10, 0, 215_030, 0, -10, 8_959_990), "EPSG:32718")


def item(transform: list[float], epsg: int = 32718) -> ParsedItem:
    it = pystac.Item("a", None, None, datetime(2023, 1, 1, tzinfo=UTC), {"proj:epsg": epsg})
    it.add_asset("B05", pystac.Asset("b5.tif", extra_fields={"proj:transform": transform}))
    ten = {"proj:transform": [10, 0, 0, 0, -10, 0]}
    it.add_asset("B02", pystac.Asset("b2.tif", extra_fields=ten))
    return parse_item(it)


def test_native_grid_covers_the_stack_on_the_coarse_pixels() -> None:
    grid = native_grid([item([20, 0, 199_980, 0, -20, 9_000_040])], "B05", FINE)
    assert grid is not None and grid.affine.a == 20
    assert grid.affine.c <= FINE.affine.c and grid.affine.f >= FINE.affine.f
    right = grid.affine.c + 20 * grid.shape.x
    assert right >= FINE.affine.c + 10 * FINE.shape.x
    assert (grid.affine.c - 199_980) % 20 == 0 and (9_000_040 - grid.affine.f) % 20 == 0


@pytest.mark.parametrize(
    ("transform", "epsg"),
    [
        ([20, 0, 199_985, 0, -20, 9_000_040], 32718),  # edges off the stack's 10 m edges
        ([20, 0, 199_980, 0, -20, 9_000_040], 32717),  # another UTM zone: warped
        ([15, 0, 199_980, 0, -15, 9_000_040], 32718),  # not a whole multiple
        ([10, 0, 199_980, 0, -10, 9_000_040], 32718),  # the stack's own resolution
    ],
)
def test_native_grid_refuses_what_is_not_an_exact_repetition(
    transform: list[float], epsg: int
) -> None:
    assert native_grid([item(transform, epsg)], "B05", FINE) is None


def test_split_by_grid_keeps_10m_bands_on_the_stack_grid() -> None:
    fine, coarse = split_by_grid(
        [item([60, 0, 199_980, 0, -60, 9_000_040])], {"B2": "B02", "B5": "B05"}, FINE
    )
    assert fine == {"B2": "B02"} and [group for _, group in coarse] == [{"B5": "B05"}]


@pytest.mark.parametrize("step", [20, 60])
def test_repeat_onto_is_nearest_neighbour(step: int) -> None:
    da = pytest.importorskip("dask.array")
    grid = native_grid([item([step, 0, 199_980, 0, -step, 9_000_040])], "B05", FINE)
    assert grid is not None
    coarse = np.arange(grid.shape.y * grid.shape.x, dtype=np.float32).reshape(grid.shape)
    out = repeat_onto(da.from_array(coarse, chunks=4), grid, FINE, 16).compute()
    ys = FINE.affine.f - 10 * (np.arange(FINE.shape.y) + 0.5)  # pixel centres
    xs = FINE.affine.c + 10 * (np.arange(FINE.shape.x) + 0.5)
    rows = ((grid.affine.f - ys) // step).astype(int)
    cols = ((xs - grid.affine.c) // step).astype(int)
    np.testing.assert_array_equal(out, coarse[np.ix_(rows, cols)])


def nearest(coarse: np.ndarray, k: int, shift: tuple[int, int], rows: int, cols: int) -> np.ndarray:
    """Stack pixel (r, c) takes coarse pixel ((r + dy) // k, (c + dx) // k): the lookup."""
    r = (np.arange(rows) + shift[0]) // k
    c = (np.arange(cols) + shift[1]) // k
    return coarse[np.ix_(r, c)]


@pytest.mark.parametrize("k", [2, 6])
@pytest.mark.parametrize("shift", [(0, 0), (1, 0), (0, 5), (3, 4)])
@pytest.mark.parametrize("chunk", [12, 16, 7])
def test_to_fine_of_a_whole_band_is_the_nearest_lookup_in_every_chunk(
    k: int, shift: tuple[int, int], chunk: int
) -> None:
    from slidewatch.acquisition.blocks import to_fine

    rows, cols = 31, 45  # the last chunks are partial
    shift = (shift[0] % k, shift[1] % k)
    coarse = np.arange(
        (-(-(rows + shift[0]) // k)) * (-(-(cols + shift[1]) // k)), dtype=np.float32
    ).reshape(-(-(rows + shift[0]) // k), -1)
    expected = nearest(coarse, k, shift, rows, cols) - 1000
    for y0 in range(0, rows, chunk):
        for x0 in range(0, cols, chunk):
            h, w = min(chunk, rows - y0), min(chunk, cols - x0)
            got = to_fine(coarse, k, (h, w), 1000.0, start=(y0 + shift[0], x0 + shift[1]))
            np.testing.assert_array_equal(got, expected[y0 : y0 + h, x0 : x0 + w])


@pytest.mark.parametrize("k", [2, 6])
def test_to_fine_of_aligned_chunks_is_the_nearest_lookup(k: int) -> None:
    from slidewatch.acquisition.blocks import to_fine

    rows, cols, chunk = 50, 38, 6 * k  # chunk (i, j) of the band covers the stack's (i, j)
    coarse = np.random.default_rng(0).random((-(-rows // k), -(-cols // k))).astype(np.float32)
    expected = nearest(coarse, k, (0, 0), rows, cols)
    c = chunk // k
    for i, y0 in enumerate(range(0, rows, chunk)):
        for j, x0 in enumerate(range(0, cols, chunk)):
            h, w = min(chunk, rows - y0), min(chunk, cols - x0)
            block = coarse[i * c : (i + 1) * c, j * c : (j + 1) * c]
            np.testing.assert_array_equal(
                to_fine(block, k, (h, w)), expected[y0 : y0 + h, x0 : x0 + w]
            )


def test_plan_coarse_chooses_whole_chunks_or_repeat() -> None:
    from slidewatch.acquisition.stac.native import WHOLE_MAX_PX, plan_coarse

    on_lattice = GeoBox((50, 70), Affine(10, 0, 215_040, 0, -10, 8_959_980), "EPSG:32718")
    g60 = native_grid([item([60, 0, 199_980, 0, -60, 9_000_040])], "B05", on_lattice)
    assert g60 is not None and plan_coarse(g60, on_lattice, 512) == "whole"  # small
    big = GeoBox((5000, 5000), on_lattice.affine, "EPSG:32718")  # 20 m: 6.25 M px
    g20 = native_grid([item([20, 0, 199_980, 0, -20, 9_000_040])], "B05", big)
    assert g20 is not None and g20.shape.x * g20.shape.y > WHOLE_MAX_PX
    assert plan_coarse(g20, big, 512) == "chunks"  # on the 20 m lattice: chunk (i, j) = (i, j)
    assert plan_coarse(g20, big, 511) == "repeat"  # 511 px is not whole 20 m pixels
    g20_off = native_grid([item([20, 0, 199_990, 0, -20, 9_000_030])], "B05", big)
    assert g20_off is not None and plan_coarse(g20_off, big, 512) == "repeat"  # 10 m off
