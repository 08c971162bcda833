"""fetch_stack end to end on the static catalogue: exact values, grid, offset, clouds,
mosaics, duplicates, terrain, provenance, and no partial output."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.acquisition.clouds import CLEAR, CLOUD, OUTSIDE
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.bands import BAND_NAMES, L4S_SCALE
from slidewatch.errors import NoSceneError, SourceError
from slidewatch.synthetic import ORIGIN

from .conftest import SLOPE_DEG, Catalogue, aoi_from_utm

NATIVE = {"B1": 60, "B5": 20, "B6": 20, "B7": 20, "B9": 60, "B10": 60, "B11": 20, "B12": 20}


def expected_l4s(
    bands: dict[str, np.ndarray], name: str, rows: slice, cols: slice, offset_in_file: float = 0.0
) -> np.ndarray:
    """Independent computation: native block means, rounded to uint16 as written, each
    10 m pixel taking its native parent pixel, offset removed, divided by the L4S divisor."""
    f = NATIVE.get(name, 10) // 10
    h, w = bands[name].shape
    native = bands[name].astype(np.float64).reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    written = np.round(native + offset_in_file)
    at10 = np.repeat(np.repeat(written, f, axis=0), f, axis=1)
    return (at10[rows, cols] - offset_in_file) / L4S_SCALE[BAND_NAMES.index(name)]


def config(cat: Catalogue, **kw: object) -> StacConfig:
    return StacConfig(stac_url=str(cat.path), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def stack_2021(catalogue: Catalogue, aoi_t1, tmp_path_factory) -> object:
    out = tmp_path_factory.mktemp("s2021") / "stack.tif"
    return fetch_stack(
        config(catalogue),
        aoi_t1,
        date(2021, 5, 1),
        date(2021, 6, 30),
        out,
        command="slidewatch fetch test",
    )


def test_grid_band_order_and_descriptions(stack_2021) -> None:
    with rasterio.open(stack_2021.path) as ds:
        assert ds.crs.to_epsg() == 32718
        assert ds.shape == (40, 40)
        assert ds.transform.a == 10.0 and ds.transform.e == -10.0
        assert (ds.transform.c, ds.transform.f) == (ORIGIN[0] + 100, ORIGIN[1] - 100)
        assert ds.descriptions == BAND_NAMES
        assert ds.dtypes[0] == "float32" and math.isnan(ds.nodata)
        assert ds.tags()["SLIDEWATCH_SCALE"] == "l4s"
        assert ds.profile["tiled"] and ds.profile["compress"].lower() == "zstd"


def test_values_are_l4s_of_the_raw_numbers(stack_2021, catalogue: Catalogue) -> None:
    rows = cols = slice(10, 50)
    with rasterio.open(stack_2021.path) as ds:
        data = ds.read()
    for i, name in enumerate(BAND_NAMES[:12]):
        np.testing.assert_allclose(
            data[i],
            expected_l4s(catalogue.bands_t1, name, rows, cols),
            rtol=1e-6,
            err_msg=name,
        )


@pytest.mark.parametrize(
    ("chunk_px", "whole_max_px"),
    [
        (14, None),  # 20 m and 60 m bands whole; the 60 m edges 20 m off the chunks'
        (14, 0),  # 20 m bands in chunks of 7 px; 60 m bands repeated onto the grid
        (15, 0),  # both repeated onto the grid (15 px is no whole number of 20 m pixels)
    ],
)
def test_small_chunks_give_the_same_stack(
    stack_2021, catalogue: Catalogue, aoi_t1, tmp_path: Path, chunk_px: int,
    whole_max_px: int | None, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Every way a 20/60 m band enters the chunks (see .native.plan_coarse) gives the
    stack of one chunk."""
    if whole_max_px is not None:
        monkeypatch.setattr("slidewatch.acquisition.stac.native.WHOLE_MAX_PX", whole_max_px)
    small = fetch_stack(
        config(catalogue), aoi_t1, date(2021, 5, 1), date(2021, 6, 30), tmp_path / "s.tif",
        chunk_px=chunk_px,
    )  # fmt: skip
    with rasterio.open(stack_2021.path) as a, rasterio.open(small.path) as b:
        np.testing.assert_array_equal(a.read(), b.read())
    with rasterio.open(stack_2021.mask_path) as a, rasterio.open(small.mask_path) as b:
        np.testing.assert_array_equal(a.read(), b.read())


def test_slope_of_a_planar_dem_and_elevation(stack_2021, catalogue: Catalogue) -> None:
    with rasterio.open(stack_2021.path) as ds:
        slope = ds.read(13) * L4S_SCALE[12]
        dem = ds.read(14) * L4S_SCALE[13]
    assert np.isfinite(slope).all()  # the border too: the DEM was padded
    np.testing.assert_allclose(slope, SLOPE_DEG, atol=1e-3)
    np.testing.assert_allclose(dem, catalogue.dem[10:50, 10:50], atol=1e-2)
    assert "cop-dem-glo-30" in stack_2021.dem_source


def test_offset_removed_once_on_both_sides_of_2022(
    stack_2021, catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    after = fetch_stack(
        config(catalogue), aoi_t1, date(2023, 5, 30), date(2023, 6, 2), tmp_path / "s.tif"
    )
    with rasterio.open(stack_2021.path) as a, rasterio.open(after.path) as b:
        np.testing.assert_array_equal(a.read(), b.read())
    assert "1000 DN removed" in after.offsets_removed[0]
    assert "none removed" in stack_2021.offsets_removed[0]


@pytest.mark.parametrize("raster_offset", [False])
def test_offset_from_the_processing_baseline_alone(
    raster_offset: bool, stack_2021, aoi_t1, tmp_path: Path
) -> None:
    from .conftest import build_catalogue

    cat = build_catalogue(tmp_path / "cat", raster_offset=raster_offset, style="earthsearch")
    after = fetch_stack(
        config(cat), aoi_t1, date(2023, 5, 30), date(2023, 6, 2), tmp_path / "s.tif"
    )
    assert "s2:processing_baseline 05.09" in after.offsets_removed[0]
    with rasterio.open(stack_2021.path) as a, rasterio.open(after.path) as b:
        np.testing.assert_array_equal(a.read(), b.read())


def test_cloud_pixels_are_nodata_and_masked(catalogue: Catalogue, aoi_t1, tmp_path: Path) -> None:
    result = fetch_stack(
        config(catalogue), aoi_t1, date(2023, 6, 10), date(2023, 6, 12), tmp_path / "c.tif"
    )
    cloud = catalogue.cloud[10:50, 10:50]
    with rasterio.open(result.path) as ds, rasterio.open(result.mask_path) as m:
        data, mask = ds.read(), m.read(1)
        assert m.tags()["CLASS_2"] == "cloud"
    assert np.isnan(data[:, cloud]).all()
    assert np.isfinite(data[:, ~cloud]).all()
    assert (mask[cloud] == CLOUD).all() and (mask[~cloud] == CLEAR).all()
    assert result.cloud_cover_aoi[0] == pytest.approx(100 * cloud.mean(), abs=1e-6)
    assert result.clear_fraction == pytest.approx(1 - cloud.mean())


def test_best_composite_fills_the_cloud_from_an_earlier_date(
    catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    result = fetch_stack(
        config(catalogue),
        aoi_t1,
        date(2023, 5, 30),
        date(2023, 6, 12),
        tmp_path / "b.tif",
        bands="B4,B3,B2",
    )
    with rasterio.open(result.path) as ds:
        data = ds.read()
        assert ds.descriptions == ("B2", "B3", "B4")  # always L4S order
    np.testing.assert_allclose(
        data[2], expected_l4s(catalogue.bands_t1, "B4", slice(10, 50), slice(10, 50)), rtol=1e-6
    )
    assert result.clear_fraction == 1.0
    assert [a.date.isoformat() for a in result.acquisitions] == ["2023-06-01", "2023-06-11"]


def test_reprocessed_duplicate_is_used_once_the_newest(
    catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    result = fetch_stack(
        config(catalogue),
        aoi_t1,
        date(2023, 7, 1),
        date(2023, 7, 1),
        tmp_path / "d.tif",
        bands="B2",
        composite="median",
    )
    assert result.scene_ids == ("D_new",)
    with rasterio.open(result.path) as ds:
        b2 = ds.read(1)
    plus50 = {"B2": catalogue.bands_t1["B2"] + 50}
    np.testing.assert_allclose(
        b2, expected_l4s(plus50, "B2", slice(10, 50), slice(10, 50)), rtol=1e-6
    )


def test_two_adjacent_tiles_are_mosaicked(catalogue: Catalogue, tmp_path: Path) -> None:
    aoi = aoi_from_utm(300, 100, 900, 500)  # 30 px in T1, 30 px in T2
    result = fetch_stack(
        config(catalogue), aoi, date(2023, 8, 1), date(2023, 8, 1), tmp_path / "m.tif", bands="B8"
    )
    assert result.scene_ids == ("E_T1", "E_T2")
    with rasterio.open(result.path) as ds:
        b8 = ds.read(1)
    both = {"B8": np.concatenate([catalogue.bands_t1["B8"], catalogue.bands_t2["B8"]], axis=1)}
    np.testing.assert_allclose(
        b8, expected_l4s(both, "B8", slice(10, 50), slice(30, 90)), rtol=1e-6
    )


def test_pixels_outside_a_polygon_aoi_are_nodata(catalogue: Catalogue, tmp_path: Path) -> None:
    from shapely.geometry import Polygon

    from slidewatch.acquisition.aoi import validate_aoi

    square = aoi_from_utm(100, 100, 500, 500).geometry
    x0, y0, x1, y1 = square.bounds
    triangle = validate_aoi(Polygon([(x0, y0), (x1, y0), (x0, y1)]))
    result = fetch_stack(
        config(catalogue),
        triangle,
        date(2021, 6, 1),
        date(2021, 6, 1),
        tmp_path / "t.tif",
        bands="B4",
    )
    with rasterio.open(result.path) as ds, rasterio.open(result.mask_path) as m:
        b4, mask = ds.read(1), m.read(1)
    assert (mask == OUTSIDE).any() and (mask == CLEAR).any()
    assert np.isnan(b4[mask == OUTSIDE]).all() and np.isfinite(b4[mask == CLEAR]).all()
    assert 0.4 < result.clear_fraction <= 1.0


def test_provenance_tags_and_stac_item(stack_2021) -> None:
    with rasterio.open(stack_2021.path) as ds:
        tags = ds.tags()
        assert ds.tags(13)["L4S_NAME"] == "slope"
    assert json.loads(tags["SCENE_IDS"]) == ["A_2021"]
    assert json.loads(tags["PROCESSING_BASELINES"]) == ["03.01"]
    assert tags["COMMAND"] == "slidewatch fetch test"
    assert "cop-dem-glo-30" in tags["DEM_SOURCE"] and tags["CLOUD_MASK"] == "scl"
    item = json.loads(stack_2021.item_path.read_text())
    props = item["properties"]
    assert props["slidewatch:scene_ids"] == ["A_2021"]
    assert props["slidewatch:datetimes"] == ["2021-06-01T15:00:00+00:00"]
    assert props["slidewatch:cloud_cover_aoi"] == [0.0]
    assert item["assets"]["stack"]["href"] == "stack.tif"
    assert item["assets"]["mask"]["href"] == "stack.mask.tif"
    assert props.get("proj:epsg") == 32718 or props.get("proj:code") == "EPSG:32718"
    assert props["proj:shape"] == [40, 40]


def test_no_scene_and_all_too_cloudy_say_what_was_searched(
    catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    with pytest.raises(
        NoSceneError, match=r"no scene found .*sentinel-2-l2a.*2020-01-01 to 2020-02-01"
    ):
        fetch_stack(
            config(catalogue), aoi_t1, date(2020, 1, 1), date(2020, 2, 1), tmp_path / "x.tif"
        )
    with pytest.raises(NoSceneError, match=r"cloudier than --max-cloud 30%.*clearest: 95%"):
        fetch_stack(
            config(catalogue), aoi_t1, date(2023, 9, 1), date(2023, 9, 1), tmp_path / "x.tif"
        )
    assert not list(tmp_path.iterdir())


def test_unreadable_asset_leaves_no_partial_stack(aoi_t1, tmp_path: Path) -> None:
    from .conftest import build_catalogue

    cat = build_catalogue(tmp_path / "cat")
    (cat.path.parent / "sentinel-2-l2a" / "A_2021" / "B11.tif").write_bytes(b"not a tiff")
    out = tmp_path / "out" / "stack.tif"
    with pytest.raises(SourceError, match="reading the imagery failed"):
        fetch_stack(config(cat), aoi_t1, date(2021, 6, 1), date(2021, 6, 1), out)
    assert not out.exists() and not list(out.parent.glob("*"))


def test_l1c_catalogue_is_masked_by_s2cloudless(aoi_t1, tmp_path: Path) -> None:
    from slidewatch.synthetic import SyntheticScene, write_catalog

    from .conftest import utc

    base = build_catalogue_bands()
    cloud = np.zeros((60, 60), bool)
    cloud[10:30, 10:30] = True
    scene = SyntheticScene("L1C_cloudy", utc(2023, 6, 11, 15), base, cloud=cloud)
    cat = write_catalog(tmp_path / "l1c", [scene], collection="sentinel-2-l1c", with_scl=False)
    config = StacConfig(stac_url=str(cat), collection="sentinel-2-l1c")
    result = fetch_stack(
        config, aoi_t1, date(2023, 6, 11), date(2023, 6, 11), tmp_path / "s.tif", bands="B4"
    )
    assert result.cloud_mask == "s2cloudless"
    with rasterio.open(result.mask_path) as m:
        mask = m.read(1)
    inside = cloud[10:50, 10:50]
    assert (mask[inside] == CLOUD).mean() > 0.95  # edges: 60 m bands mix cloud and ground
    assert (mask[~inside] == CLEAR).mean() > 0.95


def test_a_second_date_can_be_added_to_a_catalogue(aoi_t1, tmp_path: Path) -> None:
    from slidewatch.acquisition.acquisitions import search_acquisitions
    from slidewatch.synthetic import SyntheticScene, write_catalog

    from .conftest import utc

    bands = build_catalogue_bands()
    root = tmp_path / "grow"
    cat = write_catalog(root, [SyntheticScene("first", utc(2023, 3, 1, 15), bands)])
    config = StacConfig(stac_url=str(cat))
    assert [
        a.scene_ids
        for a in search_acquisitions(config, aoi_t1, date(2023, 1, 1), date(2023, 12, 31))
    ] == [("first",)]
    write_catalog(root, [SyntheticScene("second", utc(2023, 3, 6, 15), bands)])
    found = search_acquisitions(config, aoi_t1, date(2023, 1, 1), date(2023, 12, 31))
    assert [a.scene_ids for a in found] == [("first",), ("second",)]


def build_catalogue_bands() -> dict[str, np.ndarray]:
    from slidewatch.synthetic import area_bands

    bands, _, _ = area_bands(60, 60, seed=5)
    return bands


def test_a_missing_band_asset_names_the_item_and_its_keys(aoi_t1, tmp_path: Path) -> None:
    import pystac

    from .conftest import build_catalogue

    cat = build_catalogue(tmp_path / "cat")
    catalog = pystac.Catalog.from_file(str(cat.path))
    for item in catalog.get_items(recursive=True):
        item.assets.pop("B10", None)  # like L2A products, which have no cirrus band
    catalog.save()
    out = tmp_path / "s.tif"
    with pytest.raises(SourceError, match=r"item A_2021 has no asset for band B10 .*B09, B11.*L2A"):
        fetch_stack(config(cat), aoi_t1, date(2021, 6, 1), date(2021, 6, 1), out, bands="all14")
    assert not out.exists()
    fetch_stack(config(cat), aoi_t1, date(2021, 6, 1), date(2021, 6, 1), out, bands="six10m")
    assert out.exists()


def test_two_orbits_on_one_day_are_two_acquisitions_composited(aoi_t1, tmp_path: Path) -> None:
    from slidewatch.acquisition.acquisitions import search_acquisitions
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

    from .conftest import plane_dem, utc

    bands, _, _ = area_bands(60, 60, seed=3)
    cloud = np.zeros((60, 60), bool)
    cloud[:30] = True  # each pass sees the half the other one does not
    scenes = [
        SyntheticScene("R010", utc(2023, 7, 1, 10), bands, cloud=cloud, relative_orbit=10),
        SyntheticScene("R011", utc(2023, 7, 1, 12), bands, cloud=~cloud, relative_orbit=11),
    ]
    cat = write_catalog(tmp_path / "cat", scenes, plane_dem(60, 60))
    config = StacConfig(stac_url=str(cat), max_cloud=100)
    day = date(2023, 7, 1)
    acqs = search_acquisitions(config, aoi_t1, day, day)
    assert [a.scene_ids for a in acqs] == [("R010",), ("R011",)]
    result = fetch_stack(config, aoi_t1, day, day, tmp_path / "s.tif")
    assert result.clear_fraction == 1.0  # the best composite takes each half from its pass
