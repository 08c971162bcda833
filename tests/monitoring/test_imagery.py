"""What monitoring keeps between looks in one process is dropped when its files change: a
static catalogue's walk (new acquisitions are found) and the model's hash."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from slidewatch.acquisition.stac.finders import catalogue_stamp
from slidewatch.monitoring import imagery


def _catalogue(root: Path, days: list[int]) -> Path:
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

    bands, dem, _ = area_bands(24, 24, seed=2)
    scenes = [SyntheticScene(f"S2A_CACHE_202303{d:02d}", datetime(2023, 3, d, 15, tzinfo=UTC),
                             bands) for d in days]  # fmt: skip
    return write_catalog(root, scenes, dem)


def test_a_static_catalogue_is_walked_again_when_an_acquisition_is_added(tmp_path: Path) -> None:
    from slidewatch.synthetic import CRS, ORIGIN, lonlat_box

    catalog = _catalogue(tmp_path / "cat", [1])
    source = {"stac_url": str(catalog), "bands": "B2,B3,B4,B8"}
    aoi = lonlat_box(slice(4, 20), slice(4, 20), ORIGIN, CRS)
    window = (date(2023, 2, 1), date(2023, 3, 31))
    assert [f.date for f in imagery.search(source, aoi, *window)] == ["2023-03-01"]
    stamp = catalogue_stamp(str(catalog))
    assert len(stamp) >= 2  # the root and its collection(s)
    _catalogue(tmp_path / "cat", [1, 6])  # the publisher adds an acquisition
    assert catalogue_stamp(str(catalog)) != stamp
    assert [f.date for f in imagery.search(source, aoi, *window)] == ["2023-03-01", "2023-03-06"]


def test_the_model_hash_is_computed_again_when_the_weights_change(
    small_model: Path, tmp_path: Path
) -> None:
    import shutil

    from slidewatch.models.modelfile import WEIGHTS_FILE, model_hash

    model = shutil.copytree(small_model, tmp_path / "model")
    first = imagery.model_hash(str(model))
    assert first == model_hash(model)
    weights = model / WEIGHTS_FILE
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # same size
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert imagery.model_hash(str(model)) == model_hash(model) != first
