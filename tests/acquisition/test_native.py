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

from slidewatch.acquisition.native import native_grid, repeat_onto, split_by_grid

FINE = GeoBox((50, 70), Affine(10, 0, 215_030, 0, -10, 8_959_990), "EPSG:32718")


def item(transform: list[float], epsg: int = 32718) -> pystac.Item:
    it = pystac.Item("a", None, None, datetime(2023, 1, 1, tzinfo=UTC), {"proj:epsg": epsg})
    it.add_asset("B05", pystac.Asset("b5.tif", extra_fields={"proj:transform": transform}))
    ten = {"proj:transform": [10, 0, 0, 0, -10, 0]}
    it.add_asset("B02", pystac.Asset("b2.tif", extra_fields=ten))
    return it


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
