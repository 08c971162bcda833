"""How far a cloud's edge reaches into a detection: the measurement behind the change step's
edge rule (``monitoring.look.change.UNSEEN_BUFFER_PX``, docs/monitoring.md).

For each case — the SYNTHETIC area the monitoring tests use, and real Sentinel-2 tiles of
``../shared/data/s2-chittagong`` (skipped without it) — detection runs on the clear scene
and again with square "clouds" (no data) at several places; the difference, by distance
from the cloud's edge (px, outside the cloud), says how far an unseen block changes what
the model sees (its windows, the fill of invalid pixels, the receptive field): per distance,
the decisions (p ≥ threshold) that flipped and the 99th percentile of |Δp|; the farthest
connected region of flips large enough to become a polygon (3 px); the farthest distance at
which |Δp|₉₉ ≥ 0.05. The model's reach is the larger of the last two; the rule's distance is
that reach plus the cloud mask's own edge error (``--mask-error-px``: SCL's 20 m pixel).

Run: ``.venv/bin/python bench/edge_distance.py [--out bench/results/edge_distance.json]``.
Trains the monitoring tests' small model (torch, seconds) unless ``--model DIR`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from scipy.ndimage import distance_transform_edt

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "s2-chittagong"
BANDS = ("B2", "B3", "B4", "B8")
MAX_PX = 40
CLOUD_PX = 48
MIN_REGION_PX = 3


def write_scene(path: Path, bands: np.ndarray, crs: str, transform: object) -> None:
    h, w = bands.shape[1:]
    profile = {"driver": "GTiff", "count": 4, "dtype": "float32", "height": h, "width": w,
               "crs": crs, "transform": transform, "nodata": 0.0}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(bands.astype(np.float32))
        ds.descriptions = BANDS


def detect_probability(scene: Path, model: Path, out: Path) -> np.ndarray:
    from slidewatch.inference.detect import detect

    detect(scene, model, out, progress=False)
    with rasterio.open(out / "probability.tif") as ds:
        return ds.read(1)


def reach(clear: np.ndarray, clouded: np.ndarray, cloud: np.ndarray, threshold: float) -> dict:
    """Decisions flipped and |Δp| by distance from the cloud (outside it, both valid)."""
    distance = distance_transform_edt(~cloud)
    ok = (clear >= 0) & (clouded >= 0) & ~cloud
    flipped = (clear >= threshold) != (clouded >= threshold)
    delta = np.abs(clear - clouded)
    rows = []
    for d in range(1, MAX_PX + 1):
        ring = ok & (distance > d - 1) & (distance <= d)
        if ring.any():
            rows.append({"px": d, "flipped": int((flipped & ring).sum()),
                         "p99_delta": round(float(np.percentile(delta[ring], 99)), 4)})  # fmt: skip
    flips = [r["px"] for r in rows if r["flipped"]]
    small = [r["px"] for r in rows if r["p99_delta"] >= 0.05]
    return {"max_flip_px": max(flips, default=0), "max_delta05_px": max(small, default=0),
            "max_region_px": _region_reach(flipped & ok, distance), "rings": rows}  # fmt: skip


def _region_reach(flipped: np.ndarray, distance: np.ndarray) -> int:
    """The farthest distance (px, at a region's nearest pixel) of a connected region of
    flipped decisions at least ``MIN_REGION_PX`` large: what could become a polygon
    (detect drops polygons under 250 m², i.e. under 3 pixels of 10 m)."""
    from scipy.ndimage import label

    labels, n = label(flipped, structure=np.ones((3, 3)))
    if not n:
        return 0
    sizes = np.bincount(labels.ravel())
    nearest = np.full(n + 1, np.inf)
    np.minimum.at(nearest, labels[flipped], distance[flipped])
    big = [float(nearest[i]) for i in range(1, n + 1) if sizes[i] >= MIN_REGION_PX]
    return int(np.ceil(max(big))) if big else 0


def cases() -> list[tuple[str, np.ndarray, str, object]]:
    from slidewatch.synthetic import area_bands

    raw, _, _ = area_bands(240, 240, 5)
    out = [("synthetic", np.stack([raw[b] for b in BANDS]), "EPSG:32718",
            from_origin(300000, 8700000, 10, 10))]  # fmt: skip
    if REAL.is_dir():
        for tile in sorted((REAL / "labels").glob("*.tif")):
            with rasterio.open(tile) as labels:
                if (labels.read(1) == 2).sum() < 200:
                    continue
            with rasterio.open(REAL / "images" / tile.name) as ds:
                red, green, blue, nir = ds.read().astype(np.float32)
                out.append((f"real {tile.stem}", np.stack([blue, green, red, nir]), str(ds.crs),
                            ds.transform))  # fmt: skip
            if len(out) >= 4:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--mask-error-px", type=int, default=2,
                        help="the cloud mask's edge error (SCL is 20 m: 2 px of 10 m)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/edge_distance.json")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="edge-"))
    sys.path.insert(0, str(ROOT))
    if args.model is None:
        from tests.monitoring.model import train_small_model

        args.model = train_small_model(work / "model")
    from slidewatch.models.modelfile import read_spec

    threshold = read_spec(args.model).threshold
    results = []
    for name, bands, crs, transform in cases():
        h, w = bands.shape[1:]
        write_scene(work / "clear.tif", bands, crs, transform)
        clear = detect_probability(work / "clear.tif", args.model, work / "clear")
        for r0, c0 in ((h // 4, w // 4), (h // 2, w // 8), (h // 8, w // 2)):
            cloud = np.zeros((h, w), dtype=bool)
            cloud[r0 : r0 + CLOUD_PX, c0 : c0 + CLOUD_PX] = True
            hidden = bands.copy()
            hidden[:, cloud] = 0.0
            write_scene(work / "cloud.tif", hidden, crs, transform)
            clouded = detect_probability(work / "cloud.tif", args.model, work / "cloud")
            found = reach(clear, clouded, cloud, threshold)
            results.append({"case": name, "cloud_at": [r0, c0], **found})
            print(f"{name:<22} cloud at {r0:>3},{c0:>3}: single flips up to "
                  f"{found['max_flip_px']} px, regions ≥ {MIN_REGION_PX} px up to "
                  f"{found['max_region_px']} px, |Δp|99 ≥ 0.05 up to "
                  f"{found['max_delta05_px']} px")  # fmt: skip
    model_reach = max(max(r["max_region_px"], r["max_delta05_px"]) for r in results)
    chosen = model_reach + args.mask_error_px
    summary = {"model_reach_px": model_reach, "mask_error_px": args.mask_error_px,
               "distance_px": chosen, "cases": results}  # fmt: skip
    print(f"model reach {model_reach} px + mask error {args.mask_error_px} px = {chosen} px")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
