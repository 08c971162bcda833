"""Evaluation of a model directory on patch datasets, without Lightning.

The model's own bands and normalisation are used (the inference engine normalises), the
metrics are pixel-summed over the whole evaluated set (the benchmark's definition) with the
per-patch mean as a secondary figure, and the paper's three loss values are reported.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.bands import band_indices
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.hdf5 import read_bands
from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.data.splits import official_split, read_split
from slidewatch.errors import BandError, DatasetError
from slidewatch.inference.engine import Engine, load_engine
from slidewatch.losses import dice_loss, wce_dice_loss, wce_loss
from slidewatch.metrics import confusion_counts, per_patch_scores, scores_from_counts
from slidewatch.models.modelfile import load_model, save_model
from slidewatch.training.figures import PatchView, draw_predictions

SPLIT_NAMES = ("all", "train", "val", "test")
HIST_BINS = 1000
"""Probability bins of the calibration histogram (threshold resolution 0.001)."""
FIGURE_PATCHES = 4


def select_refs(model_dir: Path, data_dirs: Sequence[Path], split: str) -> list[PatchRef]:
    """Labelled patches of ``split``: ``all``; ``train``/``val`` of the model's own run
    (``RUN_DIR/split.json``) or else the official split; ``test``; or a split-file path."""
    refs = [r for r in discover_many([Path(d) for d in data_dirs]) if r.mask is not None]
    if not refs:
        raise DatasetError(
            f"{', '.join(map(str, data_dirs))}: no labelled patches; evaluation needs masks"
        )
    if split == "all":
        return refs
    run_split = Path(model_dir).parent / "split.json"
    if split in ("train", "val") and run_split.is_file():
        return read_split(run_split, refs)[split]
    if split in SPLIT_NAMES:
        return official_split(refs, split)
    parts = read_split(Path(split), refs)
    if "val" not in parts:
        raise DatasetError(f"{split}: the split file has no 'val' entry; name the split to use")
    return parts["val"]


def check_bands(model_dir: Path, model_bands: Sequence[str], refs: Sequence[PatchRef]) -> None:
    """BandError when the data lacks a band the model needs."""
    for image in sorted({r.image.parent: r.image for r in refs}.values()):
        available = read_bands(image)
        try:
            band_indices(model_bands, available)
        except BandError:
            raise BandError(
                f"model {model_dir} needs bands {', '.join(model_bands)} but {image} holds "
                f"{', '.join(available)}; evaluate on data with the model's bands or "
                "train a model on the bands this data has"
            ) from None


def predict_batches(
    predictor: Engine, refs: Sequence[PatchRef], batch_size: int, progress: bool
) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
    """Batches of L4S-scale samples with their probabilities N×H×W."""
    dataset = PatchDataset(refs, bands=predictor.bands, normalization=None)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    bar = tqdm(total=len(dataset), desc="evaluating", unit="patch", disable=not progress or None)
    with bar:
        for batch in loader:
            yield batch, predictor.predict(batch["image"].numpy())
            bar.update(len(batch["id"]))


def loss_values(prob: np.ndarray, mask: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Dice-WCE, WCE and Dice of one batch (from probabilities, via clipped logits)."""
    p = torch.from_numpy(np.clip(prob, 1e-7, 1 - 1e-7).astype(np.float64))
    logits = torch.log(p) - torch.log1p(-p)
    target = torch.from_numpy(mask)
    return np.array(
        [
            float(wce_dice_loss(logits, target, alpha, beta)),
            float(wce_loss(logits, target, beta)),
            float(dice_loss(logits, target)),
        ]
    )


@dataclasses.dataclass
class Accumulator:
    """Running sums over the evaluated patches (mutable, local to one evaluation)."""

    counts: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    )
    per_patch_sum: dict[str, float] = dataclasses.field(default_factory=dict)
    loss_sum: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    n: int = 0
    hist_pos: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(HIST_BINS, np.int64))
    hist_neg: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(HIST_BINS, np.int64))

    def add(self, prob: np.ndarray, mask: np.ndarray, threshold: float, losses: np.ndarray) -> None:
        """Add one batch (N×H×W probabilities and masks)."""
        pred = prob >= threshold
        for k, v in confusion_counts(pred, mask).items():
            self.counts[k] += int(v)
        for name, score in per_patch_scores(pred, mask).items():
            self.per_patch_sum[name] = self.per_patch_sum.get(name, 0.0) + score * len(prob)
        self.loss_sum += losses * len(prob)
        self.n += len(prob)
        bins = np.minimum((prob * HIST_BINS).astype(np.int64), HIST_BINS - 1)
        positive = mask.astype(bool)
        self.hist_pos += np.bincount(bins[positive], minlength=HIST_BINS)
        self.hist_neg += np.bincount(bins[~positive], minlength=HIST_BINS)


def best_threshold(hist_pos: np.ndarray, hist_neg: np.ndarray) -> tuple[float, float]:
    """The F1-optimal threshold (and its F1) from probability histograms of both classes;
    ties go to the threshold closest to 0.5."""
    # Predicting p >= k/BINS positive: tp = positives in bins >= k, fp likewise for negatives.
    tp = np.cumsum(hist_pos[::-1])[::-1].astype(np.float64)
    fp = np.cumsum(hist_neg[::-1])[::-1].astype(np.float64)
    fn = hist_pos.sum() - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    f1[0] = -1.0  # threshold 0 is not allowed
    thresholds = np.arange(len(hist_pos)) / len(hist_pos)
    # Among equally good thresholds, the one closest to 0.5 (the untuned default).
    tied = np.flatnonzero(f1 >= f1.max() - 1e-12)
    k = int(tied[np.argmin(np.abs(thresholds[tied] - 0.5))])
    return float(thresholds[k]), float(max(f1[k], 0.0))


def summarize(acc: Accumulator, threshold: float) -> dict[str, Any]:
    """The metrics document of one evaluation."""
    pixel = {k: float(v) for k, v in scores_from_counts(acc.counts).items()}
    per_patch = {k: v / max(acc.n, 1) for k, v in acc.per_patch_sum.items()}
    losses = acc.loss_sum / max(acc.n, 1)
    return {
        "n_patches": acc.n,
        "threshold": threshold,
        "pixel": pixel,
        "counts": dict(acc.counts),
        "per_patch_mean": per_patch,
        "losses": {"dice_wce": float(losses[0]), "wce": float(losses[1]), "dice": float(losses[2])},
    }


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON through a temporary file and a rename."""
    return write_text_atomic(path, json.dumps(data, indent=2, default=float))


def save_probability(directory: Path, source: str, patch_id: str, prob: np.ndarray) -> None:
    """Write ``directory/source/patch_id.npy`` (float32 H×W) atomically."""
    path = directory / source / f"{patch_id}.npy"
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, prob.astype(np.float32))


def run_model(
    predictor: Engine,
    refs: Sequence[PatchRef],
    *,
    batch_size: int = 8,
    predictions_dir: Path | None = None,
    progress: bool = True,
) -> tuple[Accumulator, list[PatchView]]:
    """Predict every patch; accumulate metrics; keep a few patches for the figure."""
    training = predictor.spec.training
    alpha = float(training.get("config", {}).get("alpha", 0.5))
    beta = float(training.get("beta", 1.0))
    acc = Accumulator()
    views: dict[bool, list[PatchView]] = {True: [], False: []}  # with / without landslides
    for batch, prob in predict_batches(predictor, refs, batch_size, progress):
        mask = batch["mask"].numpy()
        acc.add(prob, mask, predictor.threshold, loss_values(prob, mask, alpha, beta))
        for i, (pid, source) in enumerate(zip(batch["id"], batch["source"], strict=True)):
            if predictions_dir is not None:
                save_probability(predictions_dir, source, pid, prob[i])
            kept = views[bool(mask[i].any())]
            if len(kept) < FIGURE_PATCHES:
                image = batch["image"][i].numpy()
                kept.append(PatchView(f"{source}/{pid}", image, predictor.bands, mask[i], prob[i]))
    return acc, (views[True] + views[False])[:FIGURE_PATCHES]


def calibrate_model(
    model_dir: Path,
    data_dirs: Sequence[Path],
    batch_size: int = 8,
    progress: bool = True,
    engine: str = "auto",
    device: str = "cpu",
) -> dict[str, float]:
    """Store the F1-optimal threshold on the validation split in the model file."""
    predictor = load_engine(model_dir, engine, device)
    refs = select_refs(model_dir, data_dirs, "val")
    check_bands(model_dir, predictor.bands, refs)
    acc, _ = run_model(predictor, refs, batch_size=batch_size, progress=progress)
    threshold, f1 = best_threshold(acc.hist_pos, acc.hist_neg)
    model, spec = load_model(model_dir)
    record = {"threshold": threshold, "val_f1": f1, "previous_threshold": spec.threshold}
    metrics = {**spec.metrics, "calibration": record}
    save_model(model_dir, model, dataclasses.replace(spec, threshold=threshold, metrics=metrics))
    return record


def evaluate(
    model_dir: str | Path,
    data_dirs: Sequence[str | Path],
    split: str = "all",
    out: str | Path | None = None,
    predictions_dir: str | Path | None = None,
    figure: str | Path | None = None,
    calibrate: bool = False,
    batch_size: int = 8,
    progress: bool = True,
    engine: str = "auto",
    device: str = "cpu",
) -> dict[str, Any]:
    """Evaluate ``model_dir`` on the labelled patches of ``split``; return the metrics.

    ``out`` receives the metrics as JSON, ``predictions_dir`` one ``.npy`` probability map
    per patch (``SOURCE/ID.npy``), ``figure`` the paper's Figure 3. With
    ``calibrate`` the F1-optimal threshold on the validation split is first stored
    in the model file and then used. ``engine`` and ``device`` choose where the model runs
    (:func:`slidewatch.inference.engine.load_engine`).
    """
    model_dir, dirs = Path(model_dir), [Path(d) for d in data_dirs]
    calibration = (
        calibrate_model(model_dir, dirs, batch_size, progress, engine, device)
        if calibrate
        else None
    )
    predictor = load_engine(model_dir, engine, device)
    refs = select_refs(model_dir, dirs, split)
    check_bands(model_dir, predictor.bands, refs)
    acc, views = run_model(
        predictor,
        refs,
        batch_size=batch_size,
        predictions_dir=Path(predictions_dir) if predictions_dir else None,
        progress=progress,
    )
    result = {
        "model": str(model_dir),
        "data": [str(d) for d in dirs],
        "split": split,
        "engine": predictor.name,
        **summarize(acc, predictor.threshold),
    }
    if calibration:
        result["calibration"] = calibration
    if figure is not None and views:
        draw_predictions(views, Path(figure), predictor.threshold)
    if out is not None:
        write_json(Path(out), result)
    return result
