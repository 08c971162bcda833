"""Polygonising the landslide raster strip by strip gives the whole raster's regions."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.transform import from_origin
from rasterio.warp import transform_geom
from shapely.geometry import shape

from slidewatch.inference.polygons import LANDSLIDE, NODATA, landslide_polygons

HEIGHT, WIDTH = 200, 150
TRANSFORM = from_origin(500000.0, 8000000.0, 10.0, 10.0)  # UTM 18S, around 75° W 18° S
CRS = "EPSG:32718"


def blobs(seed: int, threshold: float = 0.6) -> np.ndarray:
    """Thresholded smoothed noise: blobs of many sizes, with holes, 1 = landslide."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((HEIGHT, WIDTH))
    ky = np.fft.fftfreq(HEIGHT)[:, None]
    kx = np.fft.fftfreq(WIDTH)[None, :]
    sigma = 3.0
    smooth = np.fft.ifft2(np.fft.fft2(noise) * np.exp(-2 * (np.pi * sigma) ** 2 * (ky**2 + kx**2)))
    smooth = smooth.real / smooth.real.std()
    return (smooth > threshold).astype(np.uint8)


def with_crafted_cases(classes: np.ndarray) -> np.ndarray:
    """Add shapes that stress the strip borders of 7, 16 and 64 rows."""
    c = classes.copy()
    c[:, 140:] = 0
    # Diagonal-only contacts across the borders at rows 7, 16, 63/64 and 112 (7 × 16).
    for row in (7, 16, 64, 112):
        c[row - 1, 141] = 1
        c[row, 142] = 1
        c[row - 1, 145] = 1
        c[row, 144] = 1
    # A ring whose hole is cut by the border at row 32 (strip_rows 16 and 7's 28/35 nearby).
    c[26:40, 141:149] = 1
    c[29:36, 143:147] = 0
    c[31, 145] = 1  # an island in the hole
    # A snake spanning many strips (rows 70 .. 190), touching each border along an edge.
    c[70:190, 148] = 1
    c[189, 141:149] = 1
    c[120:190, 141] = 1
    # Two pieces joined only inside a later strip: a "U" whose arms start in earlier strips.
    c[0:5, :] = 0
    c[0:60, 2] = 1
    c[0:60, 6] = 1
    c[59, 2:7] = 1
    # No data in a corner and a stripe of it cutting some blobs.
    c[HEIGHT - 20 :, :15] = NODATA
    c[100:103, 20:90] = NODATA
    return c


def components(classes: np.ndarray) -> list[np.ndarray]:
    """4-connected landslide regions as boolean masks (plain BFS, no scipy needed)."""
    labels = np.zeros(classes.shape, np.int32)
    found: list[np.ndarray] = []
    height, width = classes.shape
    for r0, c0 in zip(*np.nonzero(classes == LANDSLIDE), strict=True):
        if labels[r0, c0]:
            continue
        n = len(found) + 1
        labels[r0, c0] = n
        queue = deque([(r0, c0)])
        while queue:
            r, c = queue.popleft()
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if (
                    0 <= rr < height
                    and 0 <= cc < width
                    and classes[rr, cc] == LANDSLIDE
                    and not labels[rr, cc]
                ):
                    labels[rr, cc] = n
                    queue.append((rr, cc))
        found.append(labels == n)
    return found


def write(tmp_path: Path, classes: np.ndarray, prob: np.ndarray) -> tuple[Path, Path]:
    profile = {
        "driver": "GTiff",
        "width": classes.shape[1],
        "height": classes.shape[0],
        "count": 1,
        "crs": CRS,
        "transform": TRANSFORM,
    }
    with rasterio.open(tmp_path / "c.tif", "w", dtype="uint8", nodata=NODATA, **profile) as ds:
        ds.write(classes, 1)
    with rasterio.open(tmp_path / "p.tif", "w", dtype="float32", **profile) as ds:
        ds.write(prob.astype(np.float32), 1)
    return tmp_path / "c.tif", tmp_path / "p.tif"


def key(feature: dict[str, Any]) -> tuple[float, float, float, float]:
    props = feature["properties"]
    centre = shape(feature["geometry"]).centroid
    return (props["area_m2"], props["mean_probability"], round(centre.x, 5), round(centre.y, 5))


@pytest.fixture(scope="module", params=[0, 1, 2])
def scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, np.ndarray, list[dict[str, Any]]]:
    seed = request.param
    classes = with_crafted_cases(blobs(seed))
    prob = np.random.default_rng(100 + seed).uniform(0.0, 1.0, classes.shape)
    c, p = write(tmp_path_factory.mktemp(f"scene{seed}"), classes, prob)
    whole = landslide_polygons(c, p, strip_rows=HEIGHT)
    return c, p, classes, whole


def test_whole_raster_run_matches_gdal_and_the_regions(
    scene: tuple[Path, Path, np.ndarray, list[dict[str, Any]]],
) -> None:
    _, _, classes, whole = scene
    regions = components(classes)
    assert len(regions) > 30  # a real test: many blobs
    direct = [
        g
        for g, v in rasterio.features.shapes(classes, mask=classes == LANDSLIDE, connectivity=4)
        if v == LANDSLIDE
    ]
    assert len(whole) == len(direct) == len(regions)
    assert sorted(f["properties"]["area_m2"] for f in whole) == pytest.approx(
        sorted(100.0 * r.sum() for r in regions), rel=1e-6
    )


@pytest.mark.parametrize("strip_rows", [1, 7, 16, 64, 199])
def test_strips_give_the_whole_raster_polygons(
    scene: tuple[Path, Path, np.ndarray, list[dict[str, Any]]], strip_rows: int
) -> None:
    c, p, _, whole = scene
    streamed = landslide_polygons(c, p, strip_rows=strip_rows)
    assert len(streamed) == len(whole)
    assert [f["id"] for f in streamed] == list(range(1, len(whole) + 1))
    areas = [f["properties"]["area_m2"] for f in streamed]
    assert areas == sorted(areas, reverse=True)
    assert areas == pytest.approx([f["properties"]["area_m2"] for f in whole], rel=1e-6)
    assert sum(areas) == pytest.approx(sum(f["properties"]["area_m2"] for f in whole), rel=1e-9)
    for s, w in zip(sorted(streamed, key=key), sorted(whole, key=key), strict=True):
        assert s["properties"]["area_m2"] == pytest.approx(w["properties"]["area_m2"], rel=1e-6)
        assert s["properties"]["mean_probability"] == pytest.approx(
            w["properties"]["mean_probability"], abs=1e-6
        )
        a, b = shape(s["geometry"]), shape(w["geometry"])
        assert a.is_valid
        assert a.symmetric_difference(b).area <= 1e-9 * b.area


@pytest.mark.parametrize("strip_rows", [1, 7, 16])
def test_each_streamed_polygon_is_one_connected_region(
    scene: tuple[Path, Path, np.ndarray, list[dict[str, Any]]], strip_rows: int
) -> None:
    c, p, classes, _ = scene
    regions = {r.tobytes(): r for r in components(classes)}
    streamed = landslide_polygons(c, p, strip_rows=strip_rows)
    seen = set()
    for feature in streamed:
        geom = transform_geom("EPSG:4326", CRS, feature["geometry"])
        inside = rasterio.features.geometry_mask([geom], classes.shape, TRANSFORM, invert=True)
        assert inside.tobytes() in regions
        seen.add(inside.tobytes())
    assert len(seen) == len(regions)


def test_crafted_border_cases(tmp_path: Path) -> None:
    classes = np.zeros((40, 30), np.uint8)
    classes[6, 3] = classes[7, 4] = 1  # diagonal only across the border at row 7
    classes[5:9, 10:14] = 1  # a square cut by the border, with a hole on it
    classes[6:8, 11:13] = 0
    classes[2:38, 20] = 1  # a bar through all strips
    classes[13, 25] = classes[14, 25] = 1  # two pixels sharing an edge on the border at 14
    c, p = write_small(tmp_path, classes)
    for strip_rows in (1, 2, 7, 40):
        features = landslide_polygons(c, p, strip_rows=strip_rows)
        areas = sorted(f["properties"]["area_m2"] for f in features)
        assert areas == pytest.approx([100, 100, 200, 1200, 3600], rel=1e-6), strip_rows
        assert [f["properties"]["mean_probability"] for f in features] == pytest.approx([0.5] * 5)


def write_small(tmp_path: Path, classes: np.ndarray) -> tuple[Path, Path]:
    return write(tmp_path, classes, np.full(classes.shape, 0.5))


def test_strip_rows_must_be_positive(tmp_path: Path) -> None:
    c, p = write_small(tmp_path, np.ones((4, 4), np.uint8))
    with pytest.raises(ValueError, match="strip_rows"):
        landslide_polygons(c, p, strip_rows=0)
