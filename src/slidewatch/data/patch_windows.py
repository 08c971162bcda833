"""The patches of a scene's windows: each window read padded, kept when enough of it is
valid, written as an L4S image (and mask); what was skipped is tallied with the reason.
Used by :func:`slidewatch.data.build.build_patches`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from slidewatch.data.hdf5 import write_image, write_mask
from slidewatch.data.labels import LabelReader
from slidewatch.data.patch_index import PatchRecord, mask_id, patch_bounds
from slidewatch.scene import SceneReader, read_padded


@dataclass(frozen=True)
class Plan:
    """How to turn a window of the scene into a patch."""

    size: int
    min_valid_fraction: float
    max_patches: int | None


@dataclass
class Tally:
    """Windows kept and skipped, and why (for the summary and the no-patch error)."""

    kept: list[tuple[int, int, float, int | None]] = field(default_factory=list)
    empty: int = 0
    sparse: int = 0
    past_max: int = 0
    skipped_landslide: int = 0

    def explain(self, min_valid_fraction: float) -> str:
        """Why windows were skipped, in words."""
        parts = [
            f"{self.empty} held no valid pixel (outside the scene's data, nodata or fill)",
            f"{self.sparse} had fewer valid pixels than --min-valid-fraction "
            f"{min_valid_fraction:g}",
        ]
        if self.past_max:
            parts.append(f"{self.past_max} came after the patch limit")
        return "; ".join(parts)


def _write_patch(
    reader: SceneReader,
    labels: LabelReader | None,
    plan: Plan,
    window: tuple[int, int],
    folder: Path,
    tally: Tally,
) -> None:
    """Write the patch of one window, or count it as skipped (with its landslide pixels)."""
    row, col = window
    image, valid = read_padded(reader, row, col, plan.size)
    fraction = float(valid.mean())
    mask = labels(row, col, plan.size) if labels is not None else None
    if fraction < plan.min_valid_fraction or fraction == 0.0:
        tally.empty += fraction == 0.0
        tally.sparse += fraction > 0.0
        tally.skipped_landslide += int(mask.sum()) if mask is not None else 0
        return
    patch_id = f"image_{len(tally.kept) + 1}"
    bands = reader.scene.bands
    write_image(
        folder / "img" / f"{patch_id}.h5", np.moveaxis(image, 0, -1).astype(np.float32), bands
    )
    if mask is not None:
        mask[~valid] = 0
        write_mask(folder / "mask" / f"{mask_id(patch_id)}.h5", mask)
    tally.kept.append((row, col, fraction, None if mask is None else int(mask.sum())))


def _bbox(row: np.ndarray) -> tuple[float, float, float, float]:
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def write_all(
    reader: SceneReader,
    labels: LabelReader | None,
    plan: Plan,
    windows: list[tuple[int, int]],
    folder: Path,
    progress: bool,
) -> tuple[list[PatchRecord], Tally]:
    tally = Tally()
    bar = tqdm(windows, desc="patches", unit="patch", disable=None if progress else True)
    for done, window in enumerate(bar):
        if plan.max_patches is not None and len(tally.kept) >= plan.max_patches:
            tally.past_max = len(windows) - done
            break
        _write_patch(reader, labels, plan, window, folder, tally)
    if not tally.kept:
        return [], tally
    scene = reader.scene
    rows, cols = np.array([(k[0], k[1]) for k in tally.kept]).T
    bounds, lonlat = patch_bounds(scene.transform, scene.crs, rows, cols, plan.size)
    records = [
        PatchRecord(f"image_{i + 1}", k[0], k[1], _bbox(bounds[i]), _bbox(lonlat[i]), k[2], k[3])
        for i, k in enumerate(tally.kept)
    ]
    return records, tally
