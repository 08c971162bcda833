"""What the end of a training run says when its best model finds nothing.

A run whose validation F1 is 0 printed ``val F1 0.000`` and nothing else; the user could not
tell a model that predicts no landslide at all from one that predicts the wrong pixels, or a
validation split without any landslide. :func:`run_advice` reads the model file's
validation metrics (``predicted_fraction`` and ``target_fraction``: shares of pixels predicted
and labelled landslide, logged by the training task) and says which, with what to try.
"""

from __future__ import annotations

from typing import Any

F1_NOTHING = 1e-9
"""A validation F1 at or below this is 'found nothing'."""


def run_advice(metrics: dict[str, Any], training: dict[str, Any], threshold: float) -> str | None:
    """A warning with what to try when the best model's validation F1 is 0 (else None)."""
    if "f1" not in metrics or float(metrics["f1"]) > F1_NOTHING:
        return None
    predicted = metrics.get("predicted_fraction")
    target = metrics.get("target_fraction")
    n_val = metrics.get("n_patches", "the")
    if target is not None and float(target) == 0.0:
        return (
            f"Warning: the {n_val} validation patches hold no landslide pixel, so F1 says "
            "nothing; check the masks (slidewatch data check) or use a split whose validation "
            "patches hold landslides (--split FILE, or more data)"
        )
    if predicted is not None and float(predicted) == 0.0:
        what = (
            f"the best model predicts no landslide on the {n_val} validation patches "
            f"(threshold {threshold:g})"
        )
    else:
        what = (
            "the best model's predictions miss every landslide pixel of the "
            f"{n_val} validation patches"
        )
    tries = [
        f"more epochs (--epochs; this run: {training.get('epochs_run')}, best epoch "
        f"{training.get('best_epoch')})",
        "a threshold chosen on the validation split (slidewatch evaluate --model ... --calibrate)",
        f"a larger landslide weight (--beta auto or more than {training.get('beta', 1.0):.3g}; "
        f"landslide pixels are {100 * float(training.get('landslide_fraction', 0.0)):.2f}% "
        "of the training split)",
        "checking the masks (slidewatch data check; 1 = landslide)",
    ]
    return f"Warning: {what}. Try: " + "; ".join(tries) + "."
