"""Issue 21, item 5: suggestions without a frame. A network's zero padding makes a patch's
border unlike its other pixels; with a calibrated (low) threshold whole edges were suggested.
Patches are now predicted inside the scene around them (when the labeling tool has it) or a
reflection of themselves, and cropped: on real patches, edge pixels are suggested about as
often as interior ones."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from slidewatch.bands import BAND_SETS
from slidewatch.labeling.workspace import Workspace

RGBN = BAND_SETS["rgbn"]
EDGE_RATIO_MAX = 1.3
"""Edge pixels may be suggested at most this many times as often as interior ones (reflection
leaves 1.0-1.25 on the real patches; a patch alone gave 2.7-8 with padding-sensitive nets)."""


def padding_sensitive_model(folder: Path, calibrate_on: list[np.ndarray]) -> Path:
    """An untrained 4-band U-Net (seed 0: its zero padding lifts the border's probabilities)
    whose threshold is 'calibrated' to suggest the top 10% of the framed patches' pixels."""
    import torch

    from slidewatch.data.normalization import Normalization
    from slidewatch.inference.engine import load_engine
    from slidewatch.models.modelfile import ModelSpec, load_model, save_model
    from slidewatch.models.registry import build_model

    torch.manual_seed(0)
    spec = ModelSpec("unet", {"base_width": 8}, RGBN, Normalization.identity(RGBN), 0.5, 128)
    model_dir = save_model(folder, build_model("unet", 4, base_width=8).eval(), spec)
    batch = np.stack([np.moveaxis(i, -1, 0) for i in calibrate_on]).astype(np.float32)
    framed = np.pad(batch, ((0, 0), (0, 0), (32, 32), (32, 32)), mode="reflect")
    probability = load_engine(model_dir, engine="onnx").predict(framed)
    threshold = float(np.quantile(probability, 0.9))
    net, spec = load_model(model_dir)
    save_model(model_dir, net, dataclasses.replace(spec, threshold=threshold))
    load_engine(model_dir, engine="onnx")  # the graph of the recalibrated model
    return model_dir


def rates(masks: np.ndarray) -> tuple[float, float]:
    """Shares of edge (outermost ring) and interior pixels suggested in N×H×W ``masks``."""
    edge = np.zeros(masks.shape[1:], dtype=bool)
    edge[0], edge[-1], edge[:, 0], edge[:, -1] = True, True, True, True
    return float(masks[:, edge].mean()), float(masks[:, ~edge].mean())


def edge_and_interior_rates(ws: Workspace, keys: list[str]) -> tuple[float, float]:
    return rates(np.stack([ws.suggestion(k).mask for k in keys]).astype(bool))


def alone_rates(model: Path, images: list[np.ndarray]) -> tuple[float, float]:
    """The same rates when each patch is predicted alone (before issue 21)."""
    from slidewatch.inference.engine import load_engine

    engine = load_engine(model, engine="onnx")
    batch = np.stack([np.moveaxis(i, -1, 0) for i in images]).astype(np.float32)
    return rates(engine.predict(batch) >= engine.threshold)


@pytest.fixture(scope="module")
def real_patches(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 33 real L4S images (15 labelled, 18 unlabelled) as one folder to label."""
    root = tmp_path_factory.mktemp("real") / "real"
    (root / "img").mkdir(parents=True)
    paths = sorted((shared_data / "l4s-real" / "img").glob("*.h5"))
    paths += sorted((shared_data / "l4s-real-unlabeled").rglob("*.h5"))
    for i, path in enumerate(paths):
        shutil.copy(path, root / "img" / f"image_{i + 1}.h5")
    return root


def test_real_l4s_patch_edges_are_not_suggested_more_than_their_interior(
    real_patches: Path, tmp_path: Path
) -> None:
    from slidewatch.data.hdf5 import read_image

    idx = [3, 2, 1, 7]  # B4, B3, B2, B8 of the 14 L4S bands
    images = [read_image(p)[..., idx] for p in sorted((real_patches / "img").glob("*.h5"))]
    model = padding_sensitive_model(tmp_path / "model", images)
    ws = Workspace(real_patches, model)
    keys = list(ws.patches())
    assert len(keys) == 33
    edge, interior = edge_and_interior_rates(ws, keys)
    assert 0.05 < interior < 0.2
    assert edge <= EDGE_RATIO_MAX * interior, (edge, interior)
    before_edge, before_interior = alone_rates(model, images)
    assert before_edge > 2 * before_interior  # what the frame removes


def test_built_patches_are_framed_by_their_scene(shared_data: Path, tmp_path: Path) -> None:
    import json

    from slidewatch.data.build import build_patches
    from slidewatch.data.hdf5 import read_image
    from slidewatch.inference.engine import load_engine
    from slidewatch.labeling.context import Context, scene_context
    from slidewatch.labeling.suggestions import framed

    tiles = shared_data / "s2-chittagong" / "images"
    built = build_patches([tiles], None, tmp_path / "chittagong", size=128, stride=128,
                          band_order="B04,B03,B02,B08", scale="l4s", progress=False)  # fmt: skip
    index = json.loads((built.out / "index.geojson").read_text())
    inside = [f["properties"]["image"].removesuffix(".h5") for f in index["features"]
              if f["properties"]["valid_fraction"] == 1.0]  # fmt: skip
    to_rgbn = [2, 1, 0, 3]  # patches store B2, B3, B4, B8 (catalogue order)
    images = [read_image(built.out / f"{key}.h5")[..., to_rgbn] for key in inside]
    assert len(images) >= 20
    model = padding_sensitive_model(tmp_path / "model", images)
    ws = Workspace(built.out, model)
    assert ws.describe(inside[0])["context"]["available"]
    # The model saw the scene around the patch, not a reflection: predict it by hand.
    info, image = ws.image(inside[0])
    around = scene_context(built.out, inside[0], image, info.bands, 32)
    assert isinstance(around, Context) and info.bands == ("B2", "B3", "B4", "B8")
    frame, (r, c) = framed(image, around.image)
    assert not np.allclose(frame, framed(image)[0])  # the scene differs from a reflection
    engine = load_engine(model, engine="onnx")
    by_hand = engine.predict(np.moveaxis(frame[..., to_rgbn], -1, 0)[None])[0]
    by_hand = by_hand[r : r + 128, c : c + 128]
    np.testing.assert_allclose(ws.suggestion(inside[0]).probability, by_hand, atol=1e-6)
    edge, interior = edge_and_interior_rates(ws, inside)
    assert edge <= EDGE_RATIO_MAX * interior, (edge, interior)
    before_edge, before_interior = alone_rates(model, images)
    assert before_edge > 2 * before_interior
