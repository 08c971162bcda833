"""The data contract at detection time: sample a scene cheaply, compare with the model.

The scene is sampled as the scaling decision samples it (:meth:`SceneReader.read_samples`:
windows spread over the scene, a few dozen blocks, never a full read), valid pixels only,
after the scene's scaling, so the values are what the model will see. The rules are those of
:mod:`slidewatch.data.contract`.
"""

from __future__ import annotations

from typing import Any

from slidewatch.data.contract import BandStats, band_stats, check
from slidewatch.scene import Scene, SceneReader

SAMPLE_WINDOWS = 8
"""Sample windows per side of the scene (8 × 8 windows)."""
SAMPLE_SIDE = 32
"""Side of each sample window in pixels (64 windows × 1,024 px ≈ 65,000 px per band)."""


def scene_band_stats(scene: Scene) -> BandStats | None:
    """Statistics of the valid pixels of ``scene``'s sample windows (None if none is valid)."""
    with SceneReader(scene) as reader:
        image, valid = reader.read_samples(SAMPLE_WINDOWS, SAMPLE_SIDE)
    if not valid.any():
        return None
    return band_stats(image[:, valid], scene.bands)


def check_scene(scene: Scene, spec: Any, strict: bool = False) -> dict[str, Any]:
    """Compare ``scene`` with the training data of the model ``spec``; warn, or raise when
    ``strict``; return the ``data_contract`` entry of the summary."""
    names = ", ".join(map(str, scene.paths))
    source = names if len(names) < 120 else f"{len(scene.paths)} scene files"
    found = scene_band_stats(scene)
    return check(found, spec.band_stats, spec.normalization, source, strict)
