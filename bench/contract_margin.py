"""The margin of the data contract's "swapped" call, measured on the real data (issue 21).

Every real source in ``../shared/data`` is read in its documented band order (the 15
labelled and the 18 unlabelled L4S patches: the official order; the Chittagong tiles:
B04,B03,B02,B08, through ``open_scene`` and the scene sample ``detect`` takes) and compared
with the statistics a model trained on every other source would carry (``band_stats`` of
its pixels; the synthetic demo data: two 512² areas of ``synthetic_arrays``), in the four
bands every source has (B4, B3, B2, B8) and, where both have them, all 14. Then each source
is read in a wrong order (every exchange of two of B2, B3, B4, B8; for all14 also B11/B12,
B5/B6, B8/B11, B4/B5) and compared with the same source and with the other L4S set.

Printed per pair: the finding (swapped / differs / none) and the ratio of
:mod:`slidewatch.data.band_swaps` (how many times better the best reordering fits than the
order given). Correct orders must stay below ``SWAP_MARGIN``. Then the same per single patch
or tile (the noisiest input). No timing: this measures a decision, not speed.

Run: ``PYTHONPATH=src .venv/bin/python bench/contract_margin.py [--shared ../shared/data]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

RGBN = ("B4", "B3", "B2", "B8")
EXCHANGES = [("B2", "B4"), ("B2", "B3"), ("B3", "B4"), ("B4", "B8"), ("B3", "B8"), ("B2", "B8")]
EXCHANGES_14 = [("B11", "B12"), ("B5", "B6"), ("B8", "B11"), ("B4", "B5")]
L4S = ("l4s-labelled", "l4s-unlabelled")


def misnamed(pixels: np.ndarray, bands: tuple[str, ...], exchange: tuple[str, str] | None):  # type: ignore[no-untyped-def]
    """C×N L4S pixels as read when raw bands ``exchange`` are named the wrong way round: each
    lands under the other's name and is divided by that band's L4S divisor."""
    from slidewatch.bands import scale_vector

    if exchange is None:
        return pixels
    raw = pixels * scale_vector(bands)[:, None]
    i, j = bands.index(exchange[0]), bands.index(exchange[1])
    raw[[i, j]] = raw[[j, i]]
    return raw / scale_vector(bands)[:, None]


def patch_pixels(folder: Path) -> list[np.ndarray]:
    """Per patch: 14×N L4S pixels (finite)."""
    from slidewatch.bands import BAND_NAMES
    from slidewatch.data.layout import discover
    from slidewatch.data.stats import iter_images

    out = []
    for _, image in iter_images(discover(folder), BAND_NAMES, progress=False):
        px = image.reshape(-1, image.shape[-1]).astype(np.float64)
        out.append(px[np.isfinite(px).all(axis=1)].T)
    return out


def tile_pixels(tiles: list[Path]) -> list[np.ndarray]:
    """Per Chittagong tile: 4×N L4S pixels in RGBN order (0 in every band is fill)."""
    import rasterio

    from slidewatch.bands import scale_vector

    out = []
    for path in tiles:
        with rasterio.open(path) as ds:
            v = ds.read().reshape(4, -1).astype(np.float64)
        out.append(v[:, (v != 0).all(axis=0)] / scale_vector(RGBN)[:, None])
    return out


def scene_stats(tiles_dir: Path, exchange: tuple[str, str] | None):  # type: ignore[no-untyped-def]
    """What ``detect`` samples from the Chittagong mosaic read with the (wrong) order."""
    from slidewatch.inference.contract import scene_band_stats
    from slidewatch.scene import open_scene

    names = ["B4", "B3", "B2", "B8"]
    if exchange is not None:
        a, b = exchange
        names = [b if n == a else a if n == b else n for n in names]
    scene = open_scene([tiles_dir], RGBN, band_order=",".join(names), scale="l4s")
    return scene_band_stats(scene)


def synthetic_pixels(seed: int) -> np.ndarray:
    """14×N L4S pixels of a 512² synthetic demo area."""
    from slidewatch.synthetic import synthetic_arrays

    image, _ = synthetic_arrays(512, 512, seed)
    return image.reshape(14, -1).astype(np.float64)


def finding(found, trained) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    from slidewatch.data.band_swaps import order_verdict

    v = order_verdict(found, trained.select(list(found.bands)))
    if v is None:
        return "none", 0.0, 0.0
    return ("swapped" if v.swapped else "differs"), v.ratio, v.level_ratio


def select(pixels: np.ndarray, bands: tuple[str, ...]) -> np.ndarray:
    from slidewatch.bands import BAND_NAMES

    return pixels if len(pixels) == len(bands) and len(bands) == 4 else pixels[
        [BAND_NAMES.index(b) for b in bands]]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    from slidewatch.bands import BAND_NAMES
    from slidewatch.data.band_swaps import SWAP_MARGIN
    from slidewatch.data.contract import band_stats

    tiles_dir = args.shared / "s2-chittagong" / "images"
    pools = {
        "l4s-labelled": patch_pixels(args.shared / "l4s-real"),
        "l4s-unlabelled": patch_pixels(args.shared / "l4s-real-unlabeled"),
        "chittagong": tile_pixels(sorted(tiles_dir.glob("*.tif"))),
        "synthetic": [synthetic_pixels(0), synthetic_pixels(1)],
    }
    joined = {k: np.concatenate(v, axis=1) for k, v in pools.items()}
    print(f"SWAP_MARGIN = {SWAP_MARGIN:g}; ratio: how many times better the best reordering fits\n")
    print(f"{'bands':<6} {'input (order)':<28} {'model trained on':<16} {'finding':<8} "
          f"{'ratio':>6} {'levels':>6}")  # fmt: skip
    worst, weakest = np.zeros(2), {}
    for bands in (RGBN, BAND_NAMES):
        tag = "rgbn" if bands == RGBN else "all14"
        trained = {k: band_stats(select(v, bands), bands) for k, v in joined.items()
                   if not (k == "chittagong" and tag == "all14")}  # fmt: skip
        for source in (*L4S, "chittagong"):
            if source not in trained:
                continue
            for exchange in [None, *EXCHANGES, *(EXCHANGES_14 if tag == "all14" else [])]:
                if source == "chittagong":
                    found = scene_stats(tiles_dir, exchange)
                else:
                    pixels = misnamed(select(joined[source], bands), bands, exchange)
                    found = band_stats(pixels, bands)
                what = "documented" if exchange is None else "{}<->{}".format(*exchange)
                for model in trained:
                    same = model == source or {model, source} == set(L4S)
                    if exchange is not None and not same:
                        continue
                    result, ratio, levels = finding(found, trained[model])
                    print(f"{tag:<6} {source + ' (' + what + ')':<28} {model:<16} {result:<8} "
                          f"{ratio:>6.1f} {levels:>6.1f}")  # fmt: skip
                    if exchange is None:
                        worst = np.maximum(worst, (ratio, levels))
                    elif model != source or source == "chittagong":
                        old = weakest.get(what, (np.inf, np.inf))
                        weakest[what] = np.minimum(old, (ratio, levels))
    print(f"\nlargest ratios (both terms, levels) of a documented order: {worst[0]:.1f}, "
          f"{worst[1]:.1f}")  # fmt: skip
    print("smallest ratios of each true exchange (against the other L4S set, or the same scene):")
    print("  " + ", ".join(f"{k} {v[0]:.1f}/{v[1]:.1f}" for k, v in weakest.items()))
    per_item(pools, joined)


def per_item(pools, joined) -> None:  # type: ignore[no-untyped-def]
    from slidewatch.data.contract import band_stats

    print("\nper single patch / tile (rgbn): ratio min / median / max (both terms; levels),"
          " and how many are called swapped")  # fmt: skip
    trained = {k: band_stats(select(v, RGBN), RGBN) for k, v in joined.items()}
    for source, model, exchange in [
        ("l4s-labelled", "chittagong", None), ("l4s-unlabelled", "chittagong", None),
        ("l4s-labelled", "synthetic", None), ("l4s-unlabelled", "synthetic", None),
        ("chittagong", "l4s-labelled", None), ("chittagong", "l4s-unlabelled", None),
        ("chittagong", "synthetic", None),
        ("l4s-labelled", "l4s-unlabelled", ("B2", "B4")),
        ("l4s-unlabelled", "l4s-labelled", ("B2", "B4")),
        ("chittagong", "chittagong", ("B2", "B4")),
    ]:  # fmt: skip
        ratios, levels, swapped = [], [], 0
        for px in pools[source]:
            if px.shape[1] < 500:
                continue
            found = band_stats(misnamed(select(px, RGBN), RGBN, exchange), RGBN)
            result, ratio, level = finding(found, trained[model])
            ratios.append(ratio)
            levels.append(level)
            swapped += result == "swapped"
        r, q = np.array(ratios), np.array(levels)
        what = "documented" if exchange is None else "{}<->{}".format(*exchange)
        print(f"  {source} ({what}) vs {model}: n={len(r)}  {r.min():.1f} / {np.median(r):.1f} / "
              f"{r.max():.1f}; {q.min():.1f} / {np.median(q):.1f} / {q.max():.1f}; "
              f"swapped {swapped}")  # fmt: skip


if __name__ == "__main__":
    main()
