"""The vanilla U-Net of Ronneberger et al. (2015), written in plain torch.

Four down steps and four up steps; every level holds two 3×3 convolutions, each followed by
batch normalisation (absent from the 2015 paper, standard since) and ReLU. Padding keeps the
spatial size, so the output has the input's H×W when H and W are multiples of 16. Upsampling
is a 2×2 transposed convolution as in the paper, or bilinear interpolation on request.
"""

from __future__ import annotations

import torch
from torch import nn

from slidewatch.errors import ConfigError

DEPTH = 4
"""Number of down (and up) steps."""


class DoubleConv(nn.Sequential):
    """Two (3×3 conv → batch norm → ReLU) blocks."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """Upsample ×2, concatenate the skip connection, then :class:`DoubleConv`."""

    def __init__(self, in_channels: int, out_channels: int, bilinear: bool) -> None:
        super().__init__()
        self.up: nn.Module
        if bilinear:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, in_channels // 2, 1),
            )
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        self.conv = DoubleConv(in_channels // 2 + out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Upsample ``x`` and fuse it with ``skip`` (the encoder feature of the same level)."""
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """U-Net returning one logit channel (N×1×H×W) for N×C×H×W input."""

    def __init__(self, in_channels: int, base_width: int = 64, bilinear: bool = False) -> None:
        super().__init__()
        if base_width < 1:
            raise ConfigError(f"unet base_width must be a positive integer, got {base_width}")
        widths = [base_width * 2**i for i in range(DEPTH + 1)]
        self.inc = DoubleConv(in_channels, widths[0])
        self.down = nn.ModuleList(DoubleConv(widths[i], widths[i + 1]) for i in range(DEPTH))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            Up(widths[i + 1], widths[i], bilinear) for i in reversed(range(DEPTH))
        )
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×1×H×W."""
        skips = [self.inc(x)]
        for block in self.down:
            skips.append(block(self.pool(skips[-1])))
        y = skips.pop()
        for block in self.up:
            y = block(y, skips.pop())
        return self.head(y)
