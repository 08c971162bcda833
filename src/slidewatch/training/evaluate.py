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
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from slidewatch.atomic import atomic_output, write_text_atomic
from slidewatch.bands import band_indices
from slidewatch.data.contract import check_patches
from slidewatch.data.dataset import PatchDataset
from slidewatch.data.hdf5 import read_bands
from slidewatch.data.layout import PatchRef, discover_many
from slidewatch.errors import BandError, DatasetError
from slidewatch.inference.engine import Engine, load_engine
from slidewatch.metrics import scores_from_counts
from slidewatch.models.modelfile import load_model, save_model
from slidewatch.training.accumulator import Accumulator, summarize
from slidewatch.training.calibration import (
    PatchHistogram,
    best_threshold,
    counts_at,
    cv_folds,
    fold_thresholds,
    patch_histogram,
    threshold_bin,
)
from slidewatch.training.figures import PatchView, draw_predictions
from slidewatch.training.scored_patches import select_refs, training_overlap

FIGURE_PATCHES = 4


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


def loss_alpha(predictor: Engine) -> float:
    """The Dice weight of the model's training loss (0.5, the paper's, when unknown)."""
    return float(predictor.spec.training.get("config", {}).get("alpha", 0.5))


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON through a temporary file and a rename."""
    return write_text_atomic(path, json.dumps(data, indent=2, default=float))


def save_probability(directory: Path, key: str, prob: np.ndarray) -> None:
    """Write ``directory/KEY.npy`` (float32 H×W) atomically; the key is ``SOURCE[/SPLIT]/ID``."""
    path = directory / f"{key}.npy"
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, prob.astype(np.float32))


def run_model(
    predictor: Engine,
    refs: Sequence[PatchRef],
    *,
    batch_size: int = 8,
    predictions_dir: Path | None = None,
    progress: bool = True,
    keep_histograms: bool = False,
) -> tuple[Accumulator, list[PatchView]]:
    """Predict every patch; accumulate metrics; keep a few patches for the figure (and, with
    ``keep_histograms``, each patch's probability histograms)."""
    acc = Accumulator(beta=float(predictor.spec.training.get("beta", 1.0)))
    acc.patch_hists = {} if keep_histograms else None
    views: dict[bool, list[PatchView]] = {True: [], False: []}  # with / without landslides
    keys = iter([r.key for r in refs])  # the loader keeps the order of refs
    for batch, prob in predict_batches(predictor, refs, batch_size, progress):
        mask = batch["mask"].numpy()
        acc.add(prob, mask, predictor.threshold)
        for i in range(len(prob)):
            key = next(keys)
            if acc.patch_hists is not None:
                acc.patch_hists[key] = patch_histogram(prob[i], mask[i])
            if predictions_dir is not None:
                save_probability(predictions_dir, key, prob[i])
            kept = views[bool(mask[i].any())]
            if len(kept) < FIGURE_PATCHES:
                image = batch["image"][i].numpy()
                kept.append(PatchView(key, image, predictor.bands, mask[i], prob[i]))
    return acc, (views[True] + views[False])[:FIGURE_PATCHES]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A threshold chosen on one set of patches (the model's validation split)."""

    record: dict[str, Any]
    """``threshold``, ``previous_threshold``, ``chosen_on`` (patches, what, in-sample F1)."""
    hists: dict[str, PatchHistogram]
    """The choosing patches' histograms, by key (for the cross-validated report)."""


def calibrate_model(
    model_dir: Path,
    data_dirs: Sequence[Path],
    batch_size: int = 8,
    progress: bool = True,
    engine: str = "auto",
    device: str = "cpu",
) -> Calibration:
    """Store the F1-optimal threshold on the validation split in the model file: the run's
    validation patches in ``data_dirs``, else in the training folders the model file names
    (so that a model can be calibrated on its own split and scored on another source)."""
    predictor = load_engine(model_dir, engine, device)
    try:
        refs, what = select_refs(model_dir, data_dirs, "val")
    except DatasetError as exc:
        own = [Path(d) for d in predictor.spec.training.get("data_dirs", [])]
        if not own or not all(d.is_dir() for d in own):
            raise DatasetError(
                f"{exc}; --calibrate chooses the threshold on the model's validation split: "
                "give its training data with --data too"
            ) from None
        refs, what = select_refs(model_dir, own, "val")
    check_bands(model_dir, predictor.bands, refs)
    acc, _ = run_model(
        predictor, refs, batch_size=batch_size, progress=progress, keep_histograms=True
    )
    threshold, f1 = best_threshold(acc.hist_pos, acc.hist_neg)
    model, spec = load_model(model_dir)
    chosen_on = {"patches": len(refs), "what": what, "in_sample_f1": f1}
    record = {"threshold": threshold, "previous_threshold": spec.threshold, "chosen_on": chosen_on}
    metrics = {**spec.metrics, "calibration": {**record, "val_f1": f1}}
    save_model(model_dir, model, dataclasses.replace(spec, threshold=threshold, metrics=metrics))
    return Calibration(record, acc.patch_hists or {})


def report_split(data_dirs: Sequence[Path]) -> str | None:
    """Where ``--calibrate`` reports by default: the official test split when the data holds
    labelled test patches, else (None) the model's validation split, cross-validated."""
    refs = discover_many(list(data_dirs))
    return "test" if any(r.split == "test" and r.mask is not None for r in refs) else None


def calibrated_scores(cal: Calibration, acc: Accumulator, scored: str) -> dict[str, Any]:
    """How the scored patches are reported without the threshold having seen them.

    None of them among the choosing patches: the plain scores at the chosen threshold stand
    (only ``reported_on``). Otherwise the choosing patches among them are scored by k-fold
    cross-validation (each with the threshold chosen on the other folds), the rest with the
    chosen threshold: new ``pixel``, ``counts`` and ``per_patch_mean``.
    """
    hists = acc.patch_hists or {}
    shared = set(hists) & set(cal.hists)
    if not shared:
        method = "a separate set: none of these patches was used to choose the threshold"
        return {"reported_on": {"patches": len(hists), "what": scored, "method": method}}
    folds = cv_folds(len(cal.hists))
    if folds:
        method = (
            f"{folds}-fold cross-validation for the {len(shared)} patches the threshold was "
            "chosen on (each scored with a threshold chosen on the other folds)"
        )
        if len(hists) > len(shared):
            method += f"; the chosen threshold for the other {len(hists) - len(shared)}"
    else:
        method = "in-sample: one patch is too few to cross-validate (the F1 flatters)"
    by_fold, chosen = fold_thresholds(cal.hists), float(cal.record["threshold"])
    per_patch = [counts_at(h, threshold_bin(by_fold.get(k, chosen))) for k, h in hists.items()]
    counts = {k: sum(c[k] for c in per_patch) for k in ("tp", "fp", "fn", "tn")}
    rows = [scores_from_counts(c) for c in per_patch]
    return {
        "pixel": {k: float(v) for k, v in scores_from_counts(counts).items()},
        "counts": counts,
        "per_patch_mean": {k: float(np.mean([r[k] for r in rows])) for k in rows[0]},
        "reported_on": {"patches": len(hists), "what": scored, "method": method},
    }


def evaluate(
    model_dir: str | Path,
    data_dirs: Sequence[str | Path],
    split: str | None = None,
    out: str | Path | None = None,
    predictions_dir: str | Path | None = None,
    figure: str | Path | None = None,
    calibrate: bool = False,
    batch_size: int = 8,
    progress: bool = True,
    engine: str = "auto",
    device: str = "cpu",
    strict: bool = False,
) -> dict[str, Any]:
    """Evaluate ``model_dir`` on the labelled patches of ``split``; return the metrics.

    ``split`` None scores the model's own validation patches when its run recorded a split
    (see :func:`select_refs`); the result names the patches scored and counts those the
    model was trained on (``training_patches_scored``; anything above 0 flatters it).

    ``out`` receives the metrics as JSON, ``predictions_dir`` one ``.npy`` probability map
    per patch (``SOURCE[/SPLIT]/ID.npy``), ``figure`` the paper's Figure 3. With
    ``calibrate`` the F1-optimal threshold on the validation split is first stored
    in the model file, and the scores are reported on patches it was not chosen on
    (:func:`calibrated_scores`; by default the official test split when the data holds one,
    else the validation split by cross-validation); ``calibration`` says which was which.
    ``engine`` and ``device`` choose where the model runs
    (:func:`slidewatch.inference.engine.load_engine`). The patches' values are checked
    against the model's training data first (:mod:`slidewatch.data.contract`): a mismatch
    warns and is listed under ``data_contract``; ``strict=True`` raises instead.
    """
    model_dir, dirs = Path(model_dir), [Path(d) for d in data_dirs]
    calibration = (
        calibrate_model(model_dir, dirs, batch_size, progress, engine, device)
        if calibrate
        else None
    )
    if calibration is not None and split is None:
        split = report_split(dirs)
    predictor = load_engine(model_dir, engine, device)
    refs, scored = select_refs(model_dir, dirs, split)
    check_bands(model_dir, predictor.bands, refs)
    contract = check_patches(refs, predictor.spec, ", ".join(map(str, dirs)), strict)
    acc, views = run_model(
        predictor,
        refs,
        batch_size=batch_size,
        predictions_dir=Path(predictions_dir) if predictions_dir else None,
        progress=progress,
        keep_histograms=calibration is not None,
    )
    result = {
        "model": str(model_dir),
        "data": [str(d) for d in dirs],
        "split": split or ("val" if scored.startswith("the validation") else "all"),
        "scored": scored,
        "training_patches_scored": training_overlap(model_dir, refs),
        "patches": [r.key for r in refs],
        "engine": predictor.name,
        **summarize(acc, predictor.threshold, loss_alpha(predictor)),
        "data_contract": contract,
    }
    if calibration is not None:
        honest = calibrated_scores(calibration, acc, scored)
        result.update({k: honest[k] for k in ("pixel", "counts", "per_patch_mean") if k in honest})
        result["calibration"] = {**calibration.record, "reported_on": honest["reported_on"]}
    if figure is not None and views:
        draw_predictions(views, Path(figure), predictor.threshold)
    if out is not None:
        write_json(Path(out), result)
    return result
