"""The Lightning task: one shared step for training, validation and test.

The model and the loss are injected (built from the registries by :mod:`.train`), so the
task owns only the loop concerns: the loss, the pixel metrics (summed over the epoch by
torchmetrics, the benchmark's definition), logging and the optimiser.
"""

from __future__ import annotations

from typing import Any, cast

import lightning.pytorch as pl
import torch
from torch import nn
from torchmetrics import MetricCollection

from slidewatch.losses import dice_loss, wce_loss
from slidewatch.metrics import pixel_metrics
from slidewatch.threshold import is_landslide

STAGES = ("train", "val", "test")


class SegmentationTask(pl.LightningModule):
    """Binary landslide segmentation around an injected model and loss."""

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        *,
        beta: float = 1.0,
        lr: float = 1e-3,
        lr_step_epochs: int = 30,
        lr_gamma: float = 0.1,
        threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.beta = beta
        self.lr = lr
        self.lr_step_epochs = lr_step_epochs
        self.lr_gamma = lr_gamma
        self.threshold = threshold
        self.metrics = nn.ModuleDict(
            # keyed "train_" etc.: a ModuleDict key may not shadow nn.Module.train
            {f"{s}_": pixel_metrics(threshold=threshold).clone(prefix=f"{s}_") for s in STAGES}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×1×H×W."""
        logits: torch.Tensor = self.model(x)
        return logits

    def _shared_step(self, batch: dict[str, Any], stage: str) -> torch.Tensor:
        image, target = batch["image"], batch["mask"]
        logits = self(image)
        logits = logits[:, 0] if logits.ndim == 4 else logits
        loss: torch.Tensor = self.loss(logits, target)
        n = image.shape[0]
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=n)
        if stage != "train":
            # The paper's tables also report the two terms of the loss.
            logits32 = logits.float()
            self.log(f"{stage}_wce_loss", wce_loss(logits32, target, self.beta), batch_size=n)
            self.log(f"{stage}_dice_loss", dice_loss(logits32, target), batch_size=n)
            # Shares of pixels predicted / labelled landslide: an F1 of 0 says why.
            predicted = is_landslide(torch.sigmoid(logits32), self.threshold).float().mean()
            self.log(f"{stage}_predicted_fraction", predicted, batch_size=n)
            self.log(f"{stage}_target_fraction", target.float().mean(), batch_size=n)
        metrics = cast(MetricCollection, self.metrics[f"{stage}_"])
        metrics.update(torch.sigmoid(logits.detach().float()), target)
        self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=n)
        return loss

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        """One optimisation step."""
        return self._shared_step(batch, "train")

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        """Validation loss and metrics."""
        return self._shared_step(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        """Test loss and metrics."""
        return self._shared_step(batch, "test")

    def configure_optimizers(self) -> Any:
        """Adam with the learning rate stepped every ``lr_step_epochs`` epochs."""
        optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=self.lr_step_epochs, gamma=self.lr_gamma
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }
