"""The grid's results: rows from each run's metrics.json, tabulated like the paper's Tables
2 and 3 (by dataset, then band set) in Markdown and CSV, plus one model-comparison figure."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slidewatch.atomic import write_text_atomic
from slidewatch.errors import DatasetError
from slidewatch.training.figures import draw_model_comparison

if TYPE_CHECKING:
    from slidewatch.training.experiments import GridRun

COLUMNS = ("F1", "Precision", "Recall", "IoU", "Dice-WCE", "WCE", "Dice")
"""The paper's table columns, in order."""
KEYS = ("dataset", "bands", "model", "split")


def metrics_row(metrics: dict[str, Any]) -> dict[str, float]:
    """The paper's columns from one evaluation document."""
    pixel, losses = metrics["pixel"], metrics["losses"]
    return {
        "F1": pixel["f1"],
        "Precision": pixel["precision"],
        "Recall": pixel["recall"],
        "IoU": pixel["iou"],
        "Dice-WCE": losses["dice_wce"],
        "WCE": losses["wce"],
        "Dice": losses["dice"],
    }


def result_rows(runs: Sequence[GridRun], splits: Sequence[str]) -> list[dict[str, Any]]:
    """One row per finished run and evaluated split."""
    rows = []
    for run in runs:
        path = run.run_dir / "metrics.json"
        if not path.is_file():
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DatasetError(f"{path}: unreadable ({exc}); delete it to re-run") from None
        for split in splits:
            if split in doc:
                key = {"dataset": run.dataset, "bands": run.bands, "model": run.model}
                rows.append({**key, "split": split, **metrics_row(doc[split])})
    return rows


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown: a section per dataset, a table per band set and split, a row per model."""
    lines = ["# Results", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        lines += [f"## {dataset}", ""]
        in_dataset = [r for r in rows if r["dataset"] == dataset]
        for bands, split in dict.fromkeys((r["bands"], r["split"]) for r in in_dataset):
            lines += [f"### bands: {bands} (evaluated on {split})", ""]
            lines.append("| model | " + " | ".join(COLUMNS) + " |")
            lines.append("|---|" + "---:|" * len(COLUMNS))
            for r in in_dataset:
                if (r["bands"], r["split"]) == (bands, split):
                    cells = " | ".join(f"{r[c]:.4f}" for c in COLUMNS)
                    lines.append(f"| {r['model']} | {cells} |")
            lines.append("")
    return "\n".join(lines)


def csv_table(rows: Sequence[dict[str, Any]]) -> str:
    """CSV with the keys and the paper's columns."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*KEYS, *COLUMNS], lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{r[k]:.6f}" if k in COLUMNS else r[k]) for k in (*KEYS, *COLUMNS)})
    return buffer.getvalue()


def comparison_scores(
    rows: Sequence[dict[str, Any]],
) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """Groups (dataset/bands[/split]), models and F1/IoU matrices for the figure."""
    several_splits = len({r["split"] for r in rows}) > 1

    def group(r: dict[str, Any]) -> str:
        return f"{r['dataset']}\n{r['bands']}" + (f"\n{r['split']}" if several_splits else "")

    groups = list(dict.fromkeys(group(r) for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    scores = {m: np.full((len(groups), len(models)), np.nan) for m in ("F1", "IoU")}
    for r in rows:
        for metric, values in scores.items():
            values[groups.index(group(r)), models.index(r["model"])] = r[metric]
    return groups, models, scores


def write_results(rows: Sequence[dict[str, Any]], out: Path) -> dict[str, Path]:
    """Write results.md, results.csv and (when there are rows) results.png under ``out``."""
    paths = {
        "markdown": write_text_atomic(out / "results.md", markdown_table(rows) + "\n"),
        "csv": write_text_atomic(out / "results.csv", csv_table(rows)),
    }
    if rows:
        groups, models, scores = comparison_scores(rows)
        paths["figure"] = draw_model_comparison(groups, models, scores, out / "results.png")
    return paths
