"""The scene around a patch, for patches made by ``data build-patches``.

``index.geojson`` records the source scene(s) and each patch's offset in the scene's grid.
The view is the patch plus ``margin_px`` pixels on every side, read from the scene with the
same band scaling the patch got. The scene's bands are matched to the patch's by value (the
patch's own pixels must reappear in the scene): this needs no record of the band order used
at build time, and it refuses a scene that changed since. When anything is missing the view
is unavailable and :class:`NoContext` says why; the page then shows the patch alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.bands import scale_vector
from slidewatch.data.patch_index import INDEX_GEOJSON

DEFAULT_MARGIN_PX = 32
"""Context on each side: 128 px patches are shown in a 192 px (1.9 km) view."""


@dataclass(frozen=True)
class Context:
    """A patch inside its surroundings."""

    image: np.ndarray
    """(H+2m)×(W+2m)×C, the patch's bands and scale; NaN outside the scene."""
    margin_px: int
    """m: the patch starts at row m, column m of :attr:`image`."""
    scene: str
    """The scene file(s) read."""


@dataclass(frozen=True)
class NoContext:
    """Why no context can be shown."""

    reason: str


def _index_entry(root: Path, key: str) -> tuple[dict[str, Any], dict[str, Any]] | NoContext:
    path = root / INDEX_GEOJSON
    if not path.is_file():
        return NoContext(f"no {INDEX_GEOJSON} in the dataset folder (not made by build-patches)")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return NoContext(f"{path} is unreadable ({exc})")
    for feature in index.get("features", []):
        props = feature.get("properties", {})
        if str(props.get("image", "")).removesuffix(".h5") == key:
            return index, props
    return NoContext(f"patch {key} is not listed in {INDEX_GEOJSON}")


def _scene_paths(root: Path, index: dict[str, Any]) -> list[Path] | NoContext:
    out = []
    for name in index.get("scenes", []):
        candidates = [Path(name), root / name, root.parent / name]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            return NoContext(f"source scene {name} is not available on this machine")
        out.append(found)
    return out or NoContext(f"{INDEX_GEOJSON} records no source scene")


def _read_window(paths: list[Path], props: dict[str, Any], size: int, margin: int) -> np.ndarray:
    """C×n×n raw scene values (n = size + 2·margin), NaN where invalid or outside."""
    from slidewatch.scene import RasterWindows, open_raster, read_padded, zeros_are_nodata

    n = size + 2 * margin
    if len(paths) == 1:
        with open_raster(paths[0]) as ds:
            row, col = int(props["row_off"]) - margin, int(props["col_off"]) - margin
            windows = RasterWindows(ds, zero_is_nodata=zeros_are_nodata([ds]))
            data, valid = read_padded(windows, row, col, n)
    else:
        from rasterio.merge import merge

        with open_raster(paths[0]) as first:
            res = first.res
        x0, y0, x1, y1 = props["bounds"]
        bounds = (x0 - margin * res[0], y0 - margin * res[1], x1 + margin * res[0])
        array, _ = merge([str(p) for p in paths], bounds=(*bounds, y1 + margin * res[1]), res=res)
        data = np.zeros((array.shape[0], n, n))
        h, w = min(n, array.shape[1]), min(n, array.shape[2])
        data[:, :h, :w] = array[:, :h, :w]
        valid = np.zeros((n, n), dtype=bool)
        valid[:h, :w] = data[:, :h, :w].any(axis=0)
    data = data.astype(np.float64)
    data[:, ~valid] = np.nan
    return data


def _match_bands(
    window: np.ndarray, patch: np.ndarray, bands: tuple[str, ...], scale: str, margin: int
) -> list[int] | None:
    """For each patch band, the scene band whose pixels (scaled as at build time) equal it."""
    h, w = patch.shape[:2]
    inner = window[:, margin : margin + h, margin : margin + w]
    divisors = scale_vector(bands) if scale == "l4s" else np.ones(len(bands))
    check = np.isfinite(inner).all(axis=0) & (patch != 0).any(axis=-1)
    if not check.any():
        return None
    order = []
    for i in range(len(bands)):
        target = patch[..., i][check].astype(np.float64)
        hits = [
            j
            for j in range(inner.shape[0])
            if np.allclose(inner[j][check] / divisors[i], target, rtol=1e-4, atol=1e-6)
        ]
        if not hits:
            return None
        order.append(hits[0])
    return order


def scene_context(
    root: Path, key: str, patch: np.ndarray, bands: tuple[str, ...], margin_px: int
) -> Context | NoContext:
    """The view of patch ``key`` (``patch`` H×W×C with ``bands``) with ``margin_px`` around."""
    found = _index_entry(Path(root), key)
    if isinstance(found, NoContext):
        return found
    index, props = found
    paths = _scene_paths(Path(root), index)
    if isinstance(paths, NoContext):
        return paths
    from slidewatch.errors import RasterError

    try:
        window = _read_window(paths, props, patch.shape[0], margin_px)
    except (RasterError, OSError, KeyError, ValueError) as exc:
        return NoContext(f"source scene unreadable ({exc})")
    scale = str(index.get("scale", "none"))
    order = _match_bands(window, patch, bands, scale, margin_px)
    if order is None:
        return NoContext(
            f"source scene {', '.join(map(str, paths))} does not hold this patch's pixels "
            "(changed since build-patches?)"
        )
    divisors = scale_vector(bands) if scale == "l4s" else np.ones(len(bands))
    image = np.moveaxis(window[order] / divisors[:, None, None], 0, -1).astype(np.float32)
    return Context(image, margin_px, _describe(paths))


def _describe(paths: list[Path]) -> str:
    if len(paths) == 1:
        return str(paths[0])
    return f"a mosaic of {len(paths)} files in {paths[0].parent}"
