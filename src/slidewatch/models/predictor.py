"""Run a saved model on numpy batches: the one entry point for inference and evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from slidewatch.models.modelfile import ModelSpec, SpecProperties, load_model, torch_device
from slidewatch.models.probability import ProbabilityModel

SIZE_MULTIPLE = 32
"""Inputs are padded (edge values) to a multiple of this, which every architecture accepts."""


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")


class Predictor(SpecProperties):
    """A loaded model directory that turns L4S-scale band batches into probabilities."""

    def __init__(
        self, model_dir: Path, device: str = "cpu", amp: bool = False, channels_last: bool = False
    ) -> None:
        self.device = torch_device(device)
        model, spec = load_model(Path(model_dir), device="cpu")
        self.spec: ModelSpec = spec
        self.amp = amp and self.device.type == "cuda"
        self.network = ProbabilityModel(model, spec.normalization).to(self.device).eval()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:  # faster convolutions on tensor cores (CUDA)
            self.network = self.network.to(memory_format=torch.channels_last)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities N×H×W (float32) for ``batch`` N×C×H×W in L4S scale."""
        self.check_batch(batch)
        h, w = batch.shape[-2:]
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        x = _pad_to_multiple(x, SIZE_MULTIPLE).contiguous(memory_format=self.memory_format)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self.amp):
            prob = self.network(x)
        return prob[:, 0, :h, :w].float().cpu().numpy()
