"""The STAC-API source against a real STAC API on 127.0.0.1: search, fetch, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio

from slidewatch.acquisition.acquisitions import search_acquisitions
from slidewatch.acquisition.options import StacConfig
from slidewatch.acquisition.stack import fetch_stack
from slidewatch.errors import SourceError
from slidewatch.synthetic import item_dicts

from .conftest import Catalogue
from .stac_server import Faults, serve


@pytest.fixture(scope="module")
def api(catalogue: Catalogue) -> Iterator[tuple[str, Faults]]:
    faults = Faults()
    with serve(item_dicts(catalogue.path), faults) as url:
        yield url, faults


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("slidewatch.acquisition.stac.api.BACKOFF_S", 0.01)


def cfg(url: str, **kw: object) -> StacConfig:
    return StacConfig(stac_url=url, timeout_s=2.0, retries=2, **kw)  # type: ignore[arg-type]


def test_search_gives_the_same_acquisitions_as_the_static_catalogue(
    api: tuple[str, Faults], catalogue: Catalogue, aoi_t1
) -> None:
    url, _ = api
    start, end = date(2021, 1, 1), date(2023, 12, 31)
    found = search_acquisitions(cfg(url), aoi_t1, start, end)
    static = search_acquisitions(StacConfig(stac_url=str(catalogue.path)), aoi_t1, start, end)
    assert [a.key for a in found] == [a.key for a in static]
    assert [a.key for a in found][:2] == ["2021-06-01:A_2021", "2023-06-01:B_2023"]
    assert all(a.cloud_cover is not None and a.cloud_cover <= 30 for a in found)


def test_fetch_through_the_api_equals_the_static_fetch(
    api: tuple[str, Faults], catalogue: Catalogue, aoi_t1, tmp_path: Path
) -> None:
    url, _ = api
    args = (aoi_t1, date(2023, 6, 10), date(2023, 6, 12))
    a = fetch_stack(cfg(url), *args, tmp_path / "api.tif")
    b = fetch_stack(StacConfig(stac_url=str(catalogue.path)), *args, tmp_path / "static.tif")
    with rasterio.open(a.path) as da, rasterio.open(b.path) as db:
        np.testing.assert_array_equal(da.read(), db.read())
        assert da.tags()["STAC_URL"] == url


def test_503_is_retried_then_succeeds(api: tuple[str, Faults], aoi_t1) -> None:
    url, faults = api
    faults.requests.clear()
    faults.fail_next, faults.status = 2, 503
    found = search_acquisitions(cfg(url), aoi_t1, date(2021, 6, 1), date(2021, 6, 1))
    assert [a.scene_ids for a in found] == [("A_2021",)]
    assert len(faults.requests) >= 3 and faults.fail_next == 0


def test_persistent_500_gives_a_clear_error(api: tuple[str, Faults], aoi_t1) -> None:
    url, faults = api
    faults.fail_next, faults.status = 100, 500
    try:
        with pytest.raises(SourceError, match=rf"STAC API {url} kept failing after 2 retries"):
            search_acquisitions(cfg(url), aoi_t1, date(2021, 6, 1), date(2021, 6, 1))
    finally:
        faults.fail_next = 0


def test_timeouts_give_a_clear_error(api: tuple[str, Faults], aoi_t1) -> None:
    url, faults = api
    faults.delay_s = 0.6
    try:
        config = StacConfig(stac_url=url, timeout_s=0.2, retries=1)
        with pytest.raises(SourceError, match=r"did not answer within 0.2 s after 1 retries"):
            search_acquisitions(config, aoi_t1, date(2021, 6, 1), date(2021, 6, 1))
    finally:
        faults.delay_s = 0.0


def test_nothing_listening_is_a_clear_error(aoi_t1) -> None:
    from .stac_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError, match=rf"STAC API {url}"):
        search_acquisitions(cfg(url), aoi_t1, date(2021, 6, 1), date(2021, 6, 1))
