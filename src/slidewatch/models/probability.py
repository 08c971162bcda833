"""A model with its normalisation in front and a sigmoid behind.

:class:`ProbabilityModel` takes bands in L4S scale (N×C×H×W float32) and returns landslide
probabilities (N×1×H×W). The predictor runs it and the ONNX export traces it, so both apply
exactly the normalisation stored in the model file.
"""

from __future__ import annotations

import torch
from torch import nn

from slidewatch.data.normalization import Normalization


class ProbabilityModel(nn.Module):
    """``sigmoid(model((x - offset) / scale))`` with per-band offset and scale buffers."""

    offset: torch.Tensor
    scale: torch.Tensor

    def __init__(self, model: nn.Module, normalization: Normalization) -> None:
        super().__init__()
        self.model = model
        offset, scale = normalization.arrays(channel_axis=1, ndim=4)
        self.register_buffer("offset", torch.from_numpy(offset.copy()))
        self.register_buffer("scale", torch.from_numpy(scale.copy()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities N×1×H×W for L4S-scale bands N×C×H×W."""
        return torch.sigmoid(self.model((x - self.offset) / self.scale))
