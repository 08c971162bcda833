"""Two model versions scored on the same benchmark patches (``slidewatch models compare``).

Each model runs with its own bands, normalisation and threshold (the inference engine), on
the same patches in the same order; the metrics are those of ``evaluate`` (pixel-summed
P/R/F1/IoU, the paper's losses from set-wide sums) and the per-patch counts feed the paired
bootstrap and the rule of :mod:`slidewatch.models.gate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from slidewatch.data.holdout import benchmark_refs
from slidewatch.data.layout import PatchRef
from slidewatch.inference.engine import load_engine
from slidewatch.metrics import confusion_counts
from slidewatch.models.gate import RESAMPLES, Comparison, Scores, compare_counts
from slidewatch.models.identity import model_hash
from slidewatch.threshold import is_landslide
from slidewatch.training.accumulator import Accumulator, summarize
from slidewatch.training.evaluate import check_bands, loss_alpha, predict_batches


def score_version(
    model_dir: Path,
    name: str,
    refs: Sequence[PatchRef],
    batch_size: int = 8,
    engine: str = "auto",
    device: str = "cpu",
) -> tuple[Scores, np.ndarray]:
    """A model's :class:`Scores` on ``refs`` and its per-patch counts (N×4: tp, fp, fn, tn)."""
    predictor = load_engine(model_dir, engine, device)
    check_bands(model_dir, predictor.bands, refs)
    acc = Accumulator(beta=float(predictor.spec.training.get("beta", 1.0)))
    rows = []
    for batch, prob in predict_batches(predictor, refs, batch_size, progress=False):
        mask = batch["mask"].numpy()
        acc.add(prob, mask, predictor.threshold)
        pred = is_landslide(prob, predictor.threshold)
        for i in range(len(prob)):
            c = confusion_counts(pred[i], mask[i])
            rows.append((c["tp"], c["fp"], c["fn"], c["tn"]))
    summary = summarize(acc, predictor.threshold, loss_alpha(predictor))
    scores = Scores(name, model_hash(model_dir), summary["pixel"], summary["losses"],
                    float(predictor.threshold))  # fmt: skip
    return scores, np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def compare_models(
    new: tuple[str, Path],
    current: tuple[str, Path],
    data_dirs: Sequence[Path],
    resamples: int = RESAMPLES,
    seed: int = 0,
    batch_size: int = 8,
    engine: str = "auto",
    device: str = "cpu",
) -> Comparison:
    """Score ``new`` and ``current`` (name, model folder) on the benchmark of ``data_dirs``
    (:func:`slidewatch.data.holdout.benchmark_refs`) and judge the difference."""
    refs, what = benchmark_refs(data_dirs)
    new_scores, new_counts = score_version(new[1], new[0], refs, batch_size, engine, device)
    cur_scores, cur_counts = score_version(current[1], current[0], refs, batch_size, engine, device)
    benchmark = ", ".join(str(Path(d).resolve()) for d in data_dirs)
    return compare_counts(new_scores, cur_scores, new_counts, cur_counts, benchmark, resamples,
                          seed, what)  # fmt: skip
