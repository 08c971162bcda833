"""build_patches on small generated GeoTIFFs: counts, masks, bands, scaling, index, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform as transform_points

from slidewatch.bands import BAND_NAMES, band_from_description, l4s_to_raw, looks_raw, raw_to_l4s
from slidewatch.data.build import build_patches
from slidewatch.data.hdf5 import read_bands, read_image, read_mask
from slidewatch.data.patch_index import patch_offsets
from slidewatch.errors import BandError, ConfigError, DatasetError, RasterError

CRS = "EPSG:32718"
ORIGIN = (300_000.0, 8_900_000.0)
FILE_BANDS = ("B4", "B3", "B2", "B8")  # file order; L4S order is B2, B3, B4, B8


def write_tif(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = CRS,
    nodata: float | None = None,
    descriptions: tuple[str, ...] | None = None,
    origin: tuple[float, float] = ORIGIN,
) -> Path:
    profile = {
        "driver": "GTiff",
        "dtype": str(data.dtype),
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "transform": from_origin(*origin, 10, 10),
        "nodata": nodata,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            dst.descriptions = descriptions
    return path


def raw_scene(height: int = 200, width: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(200, 3000, size=(4, height, width)).astype(np.float32)


def class_labels(height: int = 200, width: int = 160, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 3, size=(1, height, width)).astype(np.uint8)


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    raw, labels = raw_scene(), class_labels()
    s = write_tif(tmp_path / "scene.tif", raw)
    lab = write_tif(tmp_path / "labels.tif", labels)
    return s, lab, raw, labels[0]


def test_patch_offsets_pad_only_the_remainder() -> None:
    assert patch_offsets(256, 128, 128) == [0, 128]
    assert patch_offsets(300, 128, 128) == [0, 128, 256]
    assert patch_offsets(256, 128, 64) == [0, 64, 128]
    assert patch_offsets(100, 128, 128) == [0]


def test_raster_labels_masks_bands_scaling_and_index(scene, tmp_path: Path) -> None:
    s, lab, raw, labels = scene
    res = build_patches(
        s,
        lab,
        tmp_path / "out",
        size=64,
        band_order="B4,B3,B2,B8",
        landslide_value=2,
        progress=False,
    )
    # 200×160 → rows 0,64,128 (+192 padded: 8/64 valid), cols 0,64 (+128 padded: 32/64 valid)
    assert res.n_patches == 6 and res.skipped == 6
    assert res.bands == ("B2", "B3", "B4", "B8") and res.scale == "l4s"
    index = json.loads((res.out / "index.geojson").read_text())
    assert len(index["features"]) == 6
    total = 0
    for feature in index["features"]:
        p = feature["properties"]
        r, c = p["row_off"], p["col_off"]
        image = read_image(res.out / "img" / f"{p['id']}.h5")
        assert read_bands(res.out / "img" / f"{p['id']}.h5") == res.bands
        expected = raw_to_l4s(raw[[2, 1, 0, 3], r : r + 64, c : c + 64], res.bands, axis=0)
        np.testing.assert_allclose(image, np.moveaxis(expected, 0, -1), rtol=1e-6)
        mask = read_mask(res.out / p["mask"])
        np.testing.assert_array_equal(mask, labels[r : r + 64, c : c + 64] == 2)
        assert p["landslide_pixels"] == int(mask.sum())
        total += int(mask.sum())
        x0, y1 = ORIGIN[0] + 10 * c, ORIGIN[1] - 10 * r
        assert p["bounds"] == pytest.approx([x0, y1 - 640, x0 + 640, y1])
        xs, ys = [x0, x0 + 640, x0 + 640, x0], [y1, y1, y1 - 640, y1 - 640]
        lon, lat = transform_points(CRS, "EPSG:4326", xs, ys)
        assert p["lonlat_bounds"][0] == pytest.approx(min(lon), abs=1e-6)
        assert p["lonlat_bounds"][3] == pytest.approx(max(lat), abs=1e-6)
    assert res.landslide_pixels == total
    csv_lines = (res.out / "index.csv").read_text().splitlines()
    assert len(csv_lines) == 7 and csv_lines[0].startswith("id,image,mask,crs")


def test_padding_keeps_edge_patches_with_zero_fill(scene, tmp_path: Path) -> None:
    s, lab, _, _ = scene
    res = build_patches(
        s,
        lab,
        tmp_path / "out",
        size=64,
        band_order=FILE_BANDS,
        landslide_value=2,
        min_valid_fraction=0.2,
        progress=False,
    )
    assert res.n_patches == 9  # 3 full rows × (2 full + 1 half) columns; the 8-row strip fails
    index = json.loads((res.out / "index.geojson").read_text())
    edge = next(f["properties"] for f in index["features"] if f["properties"]["col_off"] == 128)
    assert edge["valid_fraction"] == pytest.approx(0.5)
    image = read_image(res.out / edge["image"])
    mask = read_mask(res.out / edge["mask"])
    assert image.shape == (64, 64, 4) and np.all(image[:, 32:] == 0) and np.all(image[:, :32] > 0)
    assert np.all(mask[:, 32:] == 0)


def test_nodata_and_nan_pixels_count_as_invalid(tmp_path: Path) -> None:
    raw = raw_scene(64, 64)
    raw[:, :16, :] = -9999.0  # a quarter nodata
    raw[0, 16:32, :] = np.nan  # another quarter NaN in one band
    s = write_tif(tmp_path / "s.tif", raw, nodata=-9999.0)
    with pytest.raises(DatasetError, match="min-valid-fraction"):
        build_patches(s, None, tmp_path / "a", size=64, band_order=FILE_BANDS, progress=False)
    assert not (tmp_path / "a").exists()
    res = build_patches(
        s,
        None,
        tmp_path / "b",
        size=64,
        band_order=FILE_BANDS,
        min_valid_fraction=0.5,
        progress=False,
    )
    image = read_image(res.out / "img" / "image_1.h5")
    assert np.isfinite(image).all() and np.all(image[:32] == 0) and np.all(image[32:] > 0)
    assert not (res.out / "mask").exists() and res.landslide_pixels is None


def test_polygon_labels_in_scene_crs_and_lonlat(scene, tmp_path: Path) -> None:
    s, _, _, _ = scene
    x0, y1 = ORIGIN[0] + 10 * 20, ORIGIN[1] - 10 * 30  # pixel col 20, row 30
    ring = [[x0, y1], [x0 + 100, y1], [x0 + 100, y1 - 50], [x0, y1 - 50], [x0, y1]]  # 10×5 px
    utm = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": CRS}},
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    (tmp_path / "utm.geojson").write_text(json.dumps(utm))
    res = build_patches(
        s, tmp_path / "utm.geojson", tmp_path / "o1", size=64, band_order=FILE_BANDS, progress=False
    )
    mask = read_mask(res.out / "mask" / "mask_1.h5")
    expected = np.zeros((64, 64), np.uint8)
    expected[30:35, 20:30] = 1
    np.testing.assert_array_equal(mask, expected)
    assert res.landslide_pixels == 50
    xs, ys = zip(*ring, strict=True)
    lon, lat = transform_points(CRS, "EPSG:4326", list(xs), list(ys))
    wgs = {"type": "Polygon", "coordinates": [[list(p) for p in zip(lon, lat, strict=True)]]}
    (tmp_path / "wgs.geojson").write_text(json.dumps(wgs))
    res = build_patches(
        s, tmp_path / "wgs.geojson", tmp_path / "o2", size=64, band_order=FILE_BANDS, progress=False
    )
    assert 40 <= res.landslide_pixels <= 60  # reprojected edges may shift by a pixel


def test_polygons_past_the_edge_are_clipped(scene, tmp_path: Path) -> None:
    s, _, _, _ = scene
    x1 = ORIGIN[0] + 10 * 160
    ring = [
        [x1 - 50, ORIGIN[1]],
        [x1 + 500, ORIGIN[1]],
        [x1 + 500, ORIGIN[1] - 100],
        [x1 - 50, ORIGIN[1] - 100],
        [x1 - 50, ORIGIN[1]],
    ]
    doc = {
        "type": "Feature",
        "crs": {"type": "name", "properties": {"name": CRS}},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    (tmp_path / "p.geojson").write_text(json.dumps(doc))
    res = build_patches(
        s,
        tmp_path / "p.geojson",
        tmp_path / "o",
        size=64,
        band_order=FILE_BANDS,
        min_valid_fraction=0.4,
        progress=False,
    )
    assert res.landslide_pixels == 5 * 10  # only the 5 columns inside the scene


def test_band_descriptions_and_auto_scale(tmp_path: Path) -> None:
    raw = raw_scene(64, 64)
    s = write_tif(tmp_path / "raw.tif", raw, descriptions=("red", "Green", "B02", "nir"))
    res = build_patches(s, None, tmp_path / "a", size=64, progress=False)
    assert res.bands == ("B2", "B3", "B4", "B8") and res.scale == "l4s"
    l4s = raw_to_l4s(raw, FILE_BANDS, axis=0).astype(np.float32)
    s2 = write_tif(tmp_path / "l4s.tif", l4s, descriptions=("B4", "B3", "B2", "B8"))
    res2 = build_patches(s2, None, tmp_path / "b", size=64, progress=False)
    assert res2.scale == "none"
    np.testing.assert_allclose(
        read_image(res2.out / "img" / "image_1.h5"),
        read_image(res.out / "img" / "image_1.h5"),
        rtol=1e-5,
    )
    res3 = build_patches(s, None, tmp_path / "c", size=64, scale="none", progress=False)
    assert read_image(res3.out / "img" / "image_1.h5").max() > 100


def test_band_from_description() -> None:
    assert band_from_description("B04") == "B4"
    assert band_from_description("b12") == "B12"
    assert band_from_description("Near Infrared") == "B8"
    assert band_from_description("SWIR1") == "B11"
    assert band_from_description("B8A") is None
    assert band_from_description("temperature") is None
    assert looks_raw({"B4": 400.0}) and not looks_raw({"B4": 0.9, "dem": 4.0})
    assert looks_raw({"dem": 3000.0}) and not looks_raw({"slope": 1.2})


def test_fourteen_bands_without_descriptions_are_l4s_order(tmp_path: Path) -> None:
    l4s = np.random.default_rng(0).uniform(0.5, 2.0, (14, 32, 32)).astype(np.float32)
    s = write_tif(tmp_path / "s.tif", l4s)
    res = build_patches(s, None, tmp_path / "o", size=32, progress=False)
    assert res.bands == BAND_NAMES and res.scale == "none"
    np.testing.assert_array_equal(
        read_image(res.out / "img" / "image_1.h5"), np.moveaxis(l4s, 0, -1)
    )
    assert l4s_to_raw(l4s, BAND_NAMES).shape == l4s.shape


def test_regions_of_interest(scene, tmp_path: Path) -> None:
    s, lab, _, _ = scene
    box = f"{ORIGIN[0] + 10},{ORIGIN[1] - 700},{ORIGIN[0] + 20},{ORIGIN[1] - 690}"
    import shapely

    minx, miny, maxx, maxy = map(float, box.split(","))
    res = build_patches(
        s,
        lab,
        tmp_path / "a",
        size=64,
        band_order=FILE_BANDS,
        rois=[shapely.box(minx, miny, maxx, maxy)],
        roi_crs="scene",
        landslide_value=2,
        progress=False,
    )
    index = json.loads(res.index.read_text())
    assert [
        (f["properties"]["row_off"], f["properties"]["col_off"]) for f in index["features"]
    ] == [(64, 0)]
    lon, lat = transform_points(CRS, "EPSG:4326", [ORIGIN[0] + 1000], [ORIGIN[1] - 1500])
    res = build_patches(
        s,
        lab,
        tmp_path / "b",
        size=64,
        band_order=FILE_BANDS,
        rois=[shapely.Point(lon[0], lat[0])],
        landslide_value=2,
        progress=False,
    )
    index = json.loads(res.index.read_text())
    assert [
        (f["properties"]["row_off"], f["properties"]["col_off"]) for f in index["features"]
    ] == [(128, 64)]


def test_mosaic_of_two_files_equals_the_single_scene(scene, tmp_path: Path) -> None:
    s, lab, raw, labels = scene
    west = write_tif(tmp_path / "w.tif", raw[:, :, :96])
    east = write_tif(tmp_path / "e.tif", raw[:, :, 64:], origin=(ORIGIN[0] + 640, ORIGIN[1]))
    lw = write_tif(tmp_path / "lw.tif", labels[None, :, :96])
    le = write_tif(tmp_path / "le.tif", labels[None, :, 64:], origin=(ORIGIN[0] + 640, ORIGIN[1]))
    one = build_patches(
        s, lab, tmp_path / "one", size=64, band_order=FILE_BANDS, landslide_value=2, progress=False
    )
    two = build_patches(
        [west, east],
        [lw, le],
        tmp_path / "two",
        size=64,
        band_order=FILE_BANDS,
        landslide_value=2,
        progress=False,
    )
    assert one.patch_ids == two.patch_ids and one.landslide_pixels == two.landslide_pixels
    for pid in one.patch_ids:
        np.testing.assert_array_equal(
            read_image(one.out / "img" / f"{pid}.h5"), read_image(two.out / "img" / f"{pid}.h5")
        )
    assert not list(tmp_path.glob("two.tmp-*")) and not list((tmp_path / "two").glob(".*"))


def test_scene_without_crs_is_an_error(tmp_path: Path) -> None:
    s = write_tif(tmp_path / "nocrs.tif", raw_scene(64, 64), crs=None)
    with pytest.raises(RasterError, match=r"nocrs.tif has no CRS.*gdal_edit"):
        build_patches(s, None, tmp_path / "o", size=64, band_order=FILE_BANDS, progress=False)
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("o.tmp-*"))


def test_labels_on_another_grid_are_an_error(scene, tmp_path: Path) -> None:
    s, _, _, labels = scene
    shifted = write_tif(tmp_path / "l.tif", labels[None], origin=(ORIGIN[0] + 5, ORIGIN[1]))
    with pytest.raises(RasterError, match=r"not on the scene.s grid.*transform"):
        build_patches(s, shifted, tmp_path / "o", size=64, band_order=FILE_BANDS, progress=False)
    small = write_tif(tmp_path / "l2.tif", labels[None, :100])
    with pytest.raises(RasterError, match="shape 100×160 vs 200×160"):
        build_patches(s, small, tmp_path / "o", size=64, band_order=FILE_BANDS, progress=False)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("order", "match"),
    [("B4,B3,B2,B99", "unknown band 'B99'"), ("B4,B3,B2", "names 3 bands.*has 4")],
)
def test_bad_band_order(scene, tmp_path: Path, order: str, match: str) -> None:
    s, _, _, _ = scene
    with pytest.raises(BandError, match=match):
        build_patches(s, None, tmp_path / "o", size=64, band_order=order, progress=False)


def test_four_bands_without_descriptions_need_band_order(scene, tmp_path: Path) -> None:
    with pytest.raises(BandError, match="--band-order"):
        build_patches(scene[0], None, tmp_path / "o", size=64, progress=False)


def test_out_not_empty_is_refused_unless_overwrite(scene, tmp_path: Path) -> None:
    s, lab, _, _ = scene
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"not empty.*--overwrite"):
        build_patches(s, lab, out, size=64, band_order=FILE_BANDS, progress=False)
    assert (out / "keep.txt").exists()
    res = build_patches(
        s, lab, out, size=64, band_order=FILE_BANDS, landslide_value=2, overwrite=True,
        progress=False,
    )  # fmt: skip
    assert not (out / "keep.txt").exists() and (out / "index.csv").exists()
    assert res.n_patches == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tif", "out", "scene.tif"]


def test_bad_options(scene, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scale"):
        build_patches(scene[0], None, tmp_path / "o", band_order=FILE_BANDS, scale="dn")
    with pytest.raises(ConfigError, match="ROI CRS"):
        build_patches(
            scene[0],
            None,
            tmp_path / "o",
            band_order=FILE_BANDS,
            rois=[object()],
            roi_crs="EPSG:nope",
            progress=False,
        )


def test_all_zero_pixels_are_nodata_without_a_declared_nodata(tmp_path: Path) -> None:
    raw = raw_scene(64, 64)
    raw[:, :, :40] = 0.0  # Sentinel-2 exporters fill outside the area with 0
    raw[1, :, 40:48] = 0.0  # a 0 in one band only is a value, not nodata
    s = write_tif(tmp_path / "s.tif", raw)
    res = build_patches(
        s,
        None,
        tmp_path / "o",
        size=64,
        band_order=FILE_BANDS,
        min_valid_fraction=0.3,
        progress=False,
    )
    index = json.loads(res.index.read_text())
    assert index["features"][0]["properties"]["valid_fraction"] == pytest.approx(24 / 64)
    assert res.scale == "l4s"  # medians of the valid pixels, not of the zeros


def test_folders_stand_for_their_files(scene, tmp_path: Path) -> None:
    _, _, raw, labels = scene
    (tmp_path / "tiles").mkdir()
    (tmp_path / "lab").mkdir()
    write_tif(tmp_path / "tiles" / "a.tif", raw[:, :, :96])
    write_tif(tmp_path / "tiles" / "b.tif", raw[:, :, 64:], origin=(ORIGIN[0] + 640, ORIGIN[1]))
    (tmp_path / "tiles" / "a.tfw").write_text("world file, ignored")
    write_tif(tmp_path / "lab" / "a.tif", labels[None, :, :96])
    write_tif(tmp_path / "lab" / "b.tif", labels[None, :, 64:], origin=(ORIGIN[0] + 640, ORIGIN[1]))
    res = build_patches(
        tmp_path / "tiles",
        tmp_path / "lab",
        tmp_path / "o",
        size=64,
        band_order=FILE_BANDS,
        landslide_value=2,
        progress=False,
    )
    assert res.n_patches == 6
    assert res.landslide_pixels == int((labels[:192, :128] == 2).sum())
    (tmp_path / "empty").mkdir()
    with pytest.raises(RasterError, match="holds no"):
        build_patches(tmp_path / "empty", None, tmp_path / "o2", progress=False)


def test_geopackage_polygons(scene, tmp_path: Path) -> None:
    fiona = pytest.importorskip("fiona")
    s, _, _, _ = scene
    x0, y1 = ORIGIN[0] + 10 * 8, ORIGIN[1] - 10 * 4
    ring = [(x0, y1), (x0 + 40, y1), (x0 + 40, y1 - 30), (x0, y1 - 30), (x0, y1)]  # 4×3 px
    schema = {"geometry": "Polygon", "properties": {"kind": "str"}}
    with fiona.open(tmp_path / "l.gpkg", "w", driver="GPKG", crs=CRS, schema=schema) as dst:
        dst.write(
            {"geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"kind": "scar"}}
        )
    res = build_patches(
        s, tmp_path / "l.gpkg", tmp_path / "o", size=64, band_order=FILE_BANDS, progress=False
    )
    mask = read_mask(res.out / "mask" / "mask_1.h5")
    assert res.landslide_pixels == 12 and mask[4:7, 8:12].all()


def test_reproject_labels_onto_the_scene_grid(scene, tmp_path: Path) -> None:
    s, _, _, labels = scene
    # The same labels at 5 m pixels (each 10 m pixel becomes 2×2) on a grid shifted by 5 m.
    fine = np.repeat(np.repeat(labels, 2, axis=0), 2, axis=1)[None]
    shifted = np.zeros_like(fine)
    shifted[:, :, 1:] = fine[:, :, :-1]
    lab = write_tif(tmp_path / "fine.tif", shifted, origin=(ORIGIN[0] - 5, ORIGIN[1]))
    with rasterio.open(lab, "r+") as ds:
        ds.transform = from_origin(ORIGIN[0] - 5, ORIGIN[1], 5, 5)
    with pytest.raises(RasterError, match="--reproject-labels"):
        build_patches(s, lab, tmp_path / "o", size=64, band_order=FILE_BANDS, progress=False)
    res = build_patches(
        s,
        lab,
        tmp_path / "o",
        size=64,
        band_order=FILE_BANDS,
        landslide_value=2,
        reproject_labels=True,
        progress=False,
    )
    mask = read_mask(res.out / "mask" / "mask_1.h5")
    np.testing.assert_array_equal(mask, labels[:64, :64] == 2)
