"""Fetching from a local STAC catalogue: time against odc-stac's own load, and memory.

Writes a static catalogue of one synthetic Sentinel-2 scene (SIDE+40 px square at 10 m,
every band at its native 10/20/60 m, SCL, a 30 m DEM), then prints:

1. ``fetch_stack`` of a SIDE × SIDE px AOI (20 km × 20 km at the default 2000 px, all14:
   load, offset, SCL mask, composite, DEM + slope, L4S, written block by block) against two
   loads of the same assets on the same grid into memory by odc-stac, in the same process
   (best of ``--repeat``, alternating), wall and CPU seconds (the CPU ratio is the one to
   read on a shared machine); goal: ratio <= 1.25 (warm: all after this process's imports):
   - ``odc.stac.load`` dask-chunked like fetch (``CHUNK_PX``, threads): like for like;
   - ``odc.stac.load`` without dask (``pool`` = all cores): odc-stac's fastest load, which
     holds the whole grid in memory;
   the cold time (the first fetch in a fresh process, imports included) apart;
2. peak memory (max RSS of a child process) of fetching the AOI and one of a quarter of its
   area (half the side), and their ratio; goal: well under 4 (memory does not follow area);
3. with ``--breakdown``, where fetch's time goes, in the same alternating runs: fetch with
   the stack written uncompressed, and fetch computing every block (load, mask, composite,
   slope, L4S, counts) without writing any pixel to a file.

Run: ``.venv/bin/python bench/bench_fetch.py [--side-px 2000] [--repeat 2] [--breakdown]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

PAD_PX = 20


def make_catalogue(root: Path, side_px: int) -> Path:
    from slidewatch.synthetic import SyntheticScene, area_bands, write_catalog

    size = side_px + 2 * PAD_PX
    size += -size % 6  # whole 60 m pixels
    bands, dem, _ = area_bands(size, size, seed=1)
    scene = SyntheticScene("BENCH", datetime(2023, 6, 1, 15, tzinfo=UTC), bands)
    return write_catalog(root, [scene], dem)


def aoi_of(side_px: int) -> object:
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping, shape

    from slidewatch.acquisition.aoi import validate_aoi
    from slidewatch.synthetic import CRS, ORIGIN

    x0, y0 = ORIGIN[0] + 10 * PAD_PX, ORIGIN[1] - 10 * PAD_PX
    inner = box(x0, y0 - 10 * side_px, x0 + 10 * side_px, y0)
    return validate_aoi(shape(transform_geom(CRS, "EPSG:4326", mapping(inner))), max_km2=1e6)


def run_fetch(catalogue: Path, side_px: int, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all threads) of one ``fetch_stack``."""
    from slidewatch.acquisition.options import StacConfig
    from slidewatch.acquisition.stack import fetch_stack

    t0, c0 = time.perf_counter(), time.process_time()
    config = StacConfig(stac_url=str(catalogue), bands="all14")  # the scene has B10
    fetch_stack(config, aoi_of(side_px), date(2023, 6, 1),
                date(2023, 6, 1), out)  # fmt: skip
    return time.perf_counter() - t0, time.process_time() - c0


@contextlib.contextmanager
def variant(name: str) -> Any:
    """Fetch as it is (``""``), with the stack uncompressed, or computing every block into
    the cloud counts only (``"no file"``: the GeoTIFFs are created sparse and stay empty)."""
    from unittest import mock

    from slidewatch.acquisition import writing

    profile = writing._profile
    extra = {"uncompressed": {"compress": None}, "no file": {"sparse_ok": True}}.get(name, {})
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(writing, "_profile", lambda *a: profile(*a) | extra))
        if name == "no file":  # the blocks are computed and counted, not written
            stack.enter_context(
                mock.patch.object(writing.BlockWriter, "__setitem__", lambda w, _, b: w.count(b))
            )
        yield


def run_odc_load(catalogue: Path, side_px: int, chunked: bool = True) -> tuple[float, float]:
    """odc-stac's own load of the same assets (13 + SCL, and the DEM on the padded grid):
    dask-chunked like fetch, or (``chunked=False``) straight into memory on all cores."""
    import os

    import dask
    import odc.stac
    import pystac

    from slidewatch.acquisition.aoi import utm_grid
    from slidewatch.acquisition.stack import CHUNK_PX
    from slidewatch.acquisition.terrain import padded
    from slidewatch.acquisition.writing import quiet_memory_datasets

    items = list(pystac.Catalog.from_file(str(catalogue)).get_items(recursive=True))
    s2 = [i for i in items if i.collection_id == "sentinel-2-l2a"]
    dem = [i for i in items if i.collection_id == "cop-dem-glo-30"]
    keys = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B09", "B10", "B11",
            "B12", "SCL"]  # fmt: skip
    grid = utm_grid(aoi_of(side_px))  # type: ignore[arg-type]
    how: dict[str, object] = (
        {"chunks": {"x": CHUNK_PX, "y": CHUNK_PX}} if chunked else {"pool": os.cpu_count()}
    )
    t0, c0 = time.perf_counter(), time.process_time()
    with dask.config.set(scheduler="threads"), quiet_memory_datasets():
        a = odc.stac.load(s2, bands=keys, geobox=grid, resampling="nearest", **how)
        b = odc.stac.load(dem, bands=["data"], geobox=padded(grid), resampling="bilinear", **how)
        if chunked:
            dask.compute(a, b)
    return time.perf_counter() - t0, time.process_time() - c0


def child(catalogue: Path, side_px: int) -> None:
    """Fetch once and print the peak RSS in MB (run in a fresh process)."""
    with tempfile.TemporaryDirectory() as tmp:
        seconds, _ = run_fetch(catalogue, side_px, Path(tmp) / "stack.tif")
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    status = Path("/proc/self/status").read_text().splitlines()
    peak_mb = next(int(s.split()[1]) for s in status if s.startswith("VmHWM")) / 1024
    print(json.dumps({"side_px": side_px, "seconds": seconds, "peak_mb": peak_mb}))


def peak_of(catalogue: Path, side_px: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(catalogue), "--side-px", str(side_px)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side-px", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true",
                        help="also time fetch uncompressed and without writing")  # fmt: skip
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.side_px)
        return
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        t0 = time.perf_counter()
        catalogue = make_catalogue(Path(tmp) / "stac", args.side_px)
        print(f"catalogue: {args.side_px + 2 * PAD_PX} px square, {time.perf_counter() - t0:.1f} s")
        cold = peak_of(catalogue, args.side_px)  # a fresh process: its first fetch
        run_fetch(catalogue, 256, Path(tmp) / "warm.tif")  # this process's imports, not timed
        fetch_runs, odc_runs, direct_runs = [], [], []
        parts: dict[str, list[tuple[float, float]]] = (
            {"uncompressed": [], "no file": []} if args.breakdown else {}
        )
        for _ in range(args.repeat):
            odc_runs.append(run_odc_load(catalogue, args.side_px))
            direct_runs.append(run_odc_load(catalogue, args.side_px, chunked=False))
            fetch_runs.append(run_fetch(catalogue, args.side_px, Path(tmp) / "stack.tif"))
            for name, runs in parts.items():
                with variant(name):
                    runs.append(run_fetch(catalogue, args.side_px, Path(tmp) / "part.tif"))
        fetch_s, fetch_cpu = _best(fetch_runs)
        km = args.side_px / 100
        print(f"fetch_stack all14 {km:g} km × {km:g} km ({args.side_px}² px), warm: "
              f"{fetch_s:.2f} s, CPU {fetch_cpu:.2f} s (runs {_runs(fetch_runs)})")  # fmt: skip
        direct = _best(direct_runs)[0]
        for label, runs in (
            (f"odc.stac.load, dask chunks of {chunk_px()} px like fetch", odc_runs),
            ("odc.stac.load into memory, no dask (its fastest)", direct_runs),
        ):
            wall, cpu = _best(runs)
            print(f"{label}, warm: {wall:.2f} s, CPU {cpu:.2f} s (runs {_runs(runs)}); "
                  f"ratio fetch / it: {fetch_s / wall:.2f} wall, {fetch_cpu / cpu:.2f} CPU "
                  "(goal <= 1.25)")  # fmt: skip
        for name, runs in parts.items():
            wall, cpu = _best(runs)
            what, cost = (
                ("stack written uncompressed", "compressing")
                if name == "uncompressed"
                else ("no file written", "writing the files")
            )
            print(f"fetch_stack, {what}: {wall:.2f} s, CPU {cpu:.2f} s (runs {_runs(runs)}); "
                  f"{cost} costs fetch {fetch_s - wall:.2f} s wall, {fetch_cpu - cpu:.2f} s CPU; "
                  f"ratio to odc-stac's fastest load: {wall / direct:.2f} wall")  # fmt: skip
        print(f"fetch_stack cold (first call in a fresh process, imports included): "
              f"{cold['seconds']:.2f} s")  # fmt: skip
        small = peak_of(catalogue, args.side_px // 2)
        large = cold
        print(
            f"peak RSS: {small['peak_mb']:.0f} MB at {args.side_px // 2}² px, "
            f"{large['peak_mb']:.0f} MB at {args.side_px}² px (×4 area): "
            f"ratio {large['peak_mb'] / small['peak_mb']:.2f} (goal well under 4)"
        )


def _best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """(best wall, best CPU) of ``runs``."""
    return min(r[0] for r in runs), min(r[1] for r in runs)


def chunk_px() -> int:
    from slidewatch.acquisition.stack import CHUNK_PX

    return CHUNK_PX


def _runs(runs: list[tuple[float, float]]) -> str:
    return ", ".join(f"{wall:.2f}" for wall, _ in runs)


if __name__ == "__main__":
    main()
