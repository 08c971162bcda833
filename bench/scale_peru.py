"""The figures of docs/scale.md, derived from measurements: monitoring all of Peru at every
Sentinel-2 revisit.

Inputs: the JSON printed by ``bench/bench_monitor.py`` (fetch, detect and overhead per km²
of its large AOI, archive bytes per km²) and the ONNX forward throughput of
``unet-mobilenetv2`` in ``slidewatch.inference.engine.MEASURED_WINDOWS_PER_S`` (written
from ``bench/bench_engines.py``). Given constants (not measurements) are named as such.

Run: ``python bench/scale_peru.py bench/results/bench_monitor.json``.
"""

from __future__ import annotations

import json
import sys

AREA_KM2 = 1_285_216  # given: Peru
REVISITS_PER_YEAR = 73  # given: Sentinel-2, 5-day revisit
WINDOW_KM2 = (96 * 10 / 1000) ** 2  # detect's default: 128 px tiles, 32 px overlap
DETECT_OVER_FORWARD = 0.85  # issue 7's goal for detect's predict stage / raw forward
CORES_BENCHED = 2
USD_PER_CORE_HOUR = 0.04  # given: on-demand compute-optimised vCPU
USD_PER_GB_MONTH = 0.023  # given: object storage


def figures(bench: dict[str, float | dict], forward_windows_s: float) -> dict[str, float]:
    large = bench["large_aoi"]
    assert isinstance(large, dict)
    per_km2 = {k: large[f"{k}_s_per_km2"] for k in ("fetch", "detect", "run")}
    core_h = {k: AREA_KM2 * v * CORES_BENCHED / 3600 for k, v in per_km2.items()}
    core_h["overhead"] = core_h["run"] - core_h["fetch"] - core_h["detect"]
    windows = AREA_KM2 / WINDOW_KM2
    mnv2 = windows / (forward_windows_s / CORES_BENCHED * DETECT_OVER_FORWARD) / 3600
    total, total_mnv2 = core_h["run"], core_h["fetch"] + mnv2 + core_h["overhead"]
    archive_tb = large["archive_bytes_per_km2"] * AREA_KM2 * REVISITS_PER_YEAR / 1e12
    return {
        "windows_per_revisit": windows,
        "mnv2_detect_core_h_per_revisit": mnv2,
        "benched_detect_core_h_per_revisit": core_h["detect"],
        "fetch_core_h_per_revisit": core_h["fetch"],
        "overhead_core_h_per_revisit": core_h["overhead"],
        "total_core_h_per_revisit": total,
        "total_core_h_per_revisit_mnv2": total_mnv2,
        "core_h_per_year": total * REVISITS_PER_YEAR,
        "core_h_per_year_mnv2": total_mnv2 * REVISITS_PER_YEAR,
        "usd_per_year": total * REVISITS_PER_YEAR * USD_PER_CORE_HOUR,
        "usd_per_year_mnv2": total_mnv2 * REVISITS_PER_YEAR * USD_PER_CORE_HOUR,
        "archive_tb_per_year": archive_tb,
        "usd_storage_per_month_after_a_year": archive_tb * 1000 * USD_PER_GB_MONTH,
    }


def main() -> None:
    from slidewatch.inference.engine import MEASURED_WINDOWS_PER_S

    with open(sys.argv[1]) as f:
        bench = json.load(f)
    forward = MEASURED_WINDOWS_PER_S[("unet-mobilenetv2", "cpu")]["onnx"]
    out = figures(bench, forward)
    print(json.dumps({k: round(v, 2) for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()
