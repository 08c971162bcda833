"""A model whose output is known exactly: a U-Net with hand-set weights. SYNTHETIC.

Tests of the monitoring logic (change kinds, lineage, alerts, counts, the service's answers)
need outlines that the synthetic scenes decide, on every processor; a model trained on the
spot gives outlines that hang on the floating-point kernels of the machine. This one is the
ordinary ``unet`` architecture of the registry, saved in the project's format
(``model.safetensors`` + ``model.json``, normalisation and band statistics included), with
its ONNX graph exported beside the weights, so every engine and every process loads it as
it loads a trained model. Its weights are set by hand so that it is a per-pixel linear test
on raw digital numbers:

    logit = (-0.9 * B2 + 1.0 * B4 - 0.2 * B8) / 20     (B3 weighs nothing)

and a pixel is landslide where the logit is above 0 (probability 0.5, the stored
threshold). On the land covers of :mod:`slidewatch.synthetic.area` (raw DN per cover in
``SPECTRA``) the sum is positive on scar soil only: bare ground, vegetation and every mix of
the two, water and thick cloud are negative. The sum has no constant term, so the shading of
the terrain (a factor on every band) never changes its sign, and each cover clears zero by
at least 4.6 % of ``sum(|w_i| * band_i)``, more than the ±3 % sensor noise can move it: on
every pure pixel the model's mask is the scene's scar mask.

How: the first convolution's centre taps compute ``s`` and ``-s`` (the normalisation undone
by its weights and the batch norm's shift), every later layer passes those two channels
through along the full-resolution skip connection (all deeper layers are zero), and the
1×1 head takes ``(relu(s) - relu(-s)) / 20``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BANDS = ("B2", "B3", "B4", "B8")
"""Input bands of the model, in channel order."""
RAW_WEIGHTS = (-0.9, 0.0, 1.0, -0.2)
"""Weight of each band of :data:`BANDS` on raw digital numbers."""
LOGIT_PER_DN = 1 / 20
"""Logit per raw digital number of the weighted sum: scars score 0.9-1.0, bare ground 0.0-0.1."""
BN_EPS = 1e-5
"""torch's batch-norm epsilon, taken off the running variance so each norm is exactly 1."""
BASE_WIDTH = 2
"""The U-Net's width: two channels (``s`` and ``-s``) are all it carries."""


def threshold_logit(raw: np.ndarray, bands: tuple[str, ...] = BANDS) -> np.ndarray:
    """The model's logit for raw digital numbers ``raw`` (C×H×W, channels ``bands``) in
    numpy: what the saved model computes, for tests to compare with."""
    weights = np.array([RAW_WEIGHTS[BANDS.index(b)] for b in bands], dtype=np.float64)
    return LOGIT_PER_DN * np.tensordot(weights, np.asarray(raw, np.float64), axes=1)


def write_threshold_model(directory: Path, export_onnx: bool = True) -> Path:
    """Save the hand-set U-Net into ``directory`` (ONNX graph exported beside it when
    ``export_onnx``) and return the directory."""
    import torch

    from slidewatch.bands import raw_to_l4s, scale_vector
    from slidewatch.data.contract import band_stats
    from slidewatch.data.normalization import Normalization
    from slidewatch.models.modelfile import ModelSpec, save_model
    from slidewatch.models.registry import build_model
    from slidewatch.models.unet import DEPTH
    from slidewatch.synthetic.scenes import area_bands

    bands, _, _ = area_bands(192, 192, seed=11)
    image = raw_to_l4s(np.stack([bands[b] for b in BANDS]).astype(np.float64), BANDS)
    mean, std = image.mean(axis=(1, 2)), image.std(axis=(1, 2))
    norm = Normalization("standard", BANDS, tuple(map(float, mean)), tuple(map(float, std)))
    stats = band_stats(image.reshape(len(BANDS), -1), BANDS)
    # s = sum_i w_i * raw_i = sum_i (w_i * scale_i * std_i) * x_i + sum_i w_i * scale_i * mean_i,
    # with x the normalised input the network sees
    on_l4s = np.asarray(RAW_WEIGHTS) * scale_vector(BANDS)
    taps, shift = on_l4s * std, float(on_l4s @ mean)

    model = build_model("unet", len(BANDS), base_width=BASE_WIDTH).eval()
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if name.endswith("running_var"):
                value.fill_(1.0 - BN_EPS)  # every batch norm the identity...
            elif name.endswith("weight") and value.ndim == 1:
                value.fill_(1.0)
            elif not name.endswith("num_batches_tracked"):
                value.zero_()  # ...and every convolution silent, unless set below
        state = model.state_dict()
        first = torch.tensor(taps, dtype=torch.float32)
        state["inc.0.weight"][0, :, 1, 1] = first  # s
        state["inc.0.weight"][1, :, 1, 1] = -first  # -s
        state["inc.1.bias"][:] = torch.tensor([shift, -shift])
        last = f"up.{DEPTH - 1}.conv"  # the full-resolution level
        for conv in ("inc.3", f"{last}.0", f"{last}.3"):
            for channel in range(BASE_WIDTH):  # the skip's channels come first in the concat
                state[f"{conv}.weight"][channel, channel, 1, 1] = 1.0
        state["head.weight"][0, :, 0, 0] = torch.tensor([LOGIT_PER_DN, -LOGIT_PER_DN])
    spec = ModelSpec(
        "unet", {"base_width": BASE_WIDTH}, BANDS, norm, threshold=0.5, patch_size=128,
        training={"data": "none: SYNTHETIC weights set by hand (slidewatch.synthetic.model)",
                  "rule": "landslide where -0.9*B2 + B4 - 0.2*B8 > 0 (raw DN)"},
        band_stats=stats,
    )  # fmt: skip
    directory = save_model(Path(directory), model, spec)
    if export_onnx:
        from slidewatch.inference.engine import load_engine

        load_engine(directory, "onnx")  # exports the graph beside the weights, once
    return directory
