"""An AOI's history: landslide area per acquisition, as a table, a plot, and panels of
pre-event RGB, post-event RGB and the detection over it (what a person looks at to judge a
change)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.errors import RegistryError
from slidewatch.monitoring.kinds import ChangeKind, RunState
from slidewatch.monitoring.registry.counts import run_counts


@dataclass(frozen=True)
class Point:
    run_id: int
    date: str | None
    state: str
    landslides: int | None
    area_m2: float | None
    new_area_m2: float | None
    changes: dict[str, int]
    alerts: int
    cloud_pct: float | None
    reason: str | None


def time_series(registry: Any, name: str) -> list[Point]:
    """Every run of the AOI, oldest acquisition first; ``changes``: its landslides per change
    kind (:func:`~slidewatch.monitoring.registry.counts.run_counts`, as the API counts them),
    those that occur, or ``{"baseline": landslides}`` for the first run of the AOI."""
    rows = sorted(registry.runs(name), key=lambda r: (r.acquisition_date or "", r.id))
    counts = run_counts(registry, [r.id for r in rows])
    return [
        Point(r.id, r.acquisition_date, r.state, r.stats.get("landslides"),
              r.stats.get("landslide_area_m2"), r.stats.get("new_area_m2"),
              _shown(counts[r.id], r.stats), r.stats.get("alerts", 0), r.cloud_pct, r.reason)
        for r in rows
    ]  # fmt: skip


def _shown(counts: dict[str, int], stats: dict[str, Any]) -> dict[str, int]:
    """The kinds that occur; a baseline run (no change rows) shows its landslides."""
    shown = {str(kind): n for kind, n in counts.items() if n}
    if not shown and stats.get("baseline") and stats.get("landslides"):
        shown = {str(ChangeKind.BASELINE): int(stats["landslides"])}
    return shown


def format_table(points: list[Point]) -> str:
    head = f"{'run':>4} {'date':<10} {'state':<8} {'slides':>6} {'area m²':>10} {'new m²':>8} "
    lines = [head + f"{'cloud %':>7}  changes / reason"]
    for p in points:
        changes = ", ".join(f"{k} {v}" for k, v in sorted(p.changes.items()))
        lines.append(
            f"{p.run_id:>4} {p.date or '-':<10} {p.state:<8} {_n(p.landslides):>6} "
            f"{_n(p.area_m2):>10} {_n(p.new_area_m2):>8} {_n(p.cloud_pct):>7}  "
            f"{changes or p.reason or ''}"
        )
    return "\n".join(lines)


def format_alerts(registry: Any, name: str, limit: int = 20) -> str:
    """The AOI's latest alerts: when the ground was seen, kind, confidence, landslide, and
    each delivery's state with its attempts and last error (what a failing receiver said)."""
    from slidewatch.monitoring.registry.reviews import alerts_of

    alerts = alerts_of(registry, registry.get_aoi(name).id, limit)
    if not alerts:
        return "alerts: none"
    lines = ["alerts (newest first):"]
    for a in alerts:
        lines.append(f"  {a.acquisition_date or '-':<10} {a.kind:<9} {a.confidence:<9} "
                     f"landslide {a.landslide_id:<5} alert {a.event_id}")  # fmt: skip
        for d in a.deliveries:
            error = f", last error: {d.last_error}" if d.last_error else ""
            tries = f"{d.attempts} attempt{'s' if d.attempts != 1 else ''}"
            lines.append(f"      {d.channel} {d.target} {d.state} ({tries}{error})")
    return "\n".join(lines)


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:g}"


def plot_history(points: list[Point], name: str, path: Path) -> None:
    """Landslide area per acquisition (line), new/grown area (bars), skipped/failed marks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from slidewatch.atomic import atomic_output

    done = [p for p in points if p.state == RunState.DONE and p.date]
    other = [p for p in points if p.state in (RunState.SKIPPED, RunState.FAILED) and p.date]
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    dates = [np.datetime64(p.date) for p in done]
    ax.plot(dates, [(p.area_m2 or 0) / 1e4 for p in done], "o-", label="landslide area")
    new_ha = [(p.new_area_m2 or 0) / 1e4 for p in done]
    ax.bar(dates, new_ha, width=1.5, color="tab:red", alpha=0.6, label="new or grown area")
    for day, ha in zip(dates, new_ha, strict=True):  # a new scar is small beside the total:
        if ha > 0:  # its bar may be a pixel high, so its value is written above it
            ax.annotate(f"+{ha:,.2f} ha", (day, ha), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8, color="tab:red")  # fmt: skip
    from matplotlib.dates import date2num

    for p in other:
        ax.axvline(float(date2num(np.datetime64(p.date))), color="grey", ls=":", lw=1)
        ax.annotate(p.state, (np.datetime64(p.date), 0), rotation=90, fontsize=7, color="grey")
    ax.set(title=f"{name}: landslide area per acquisition", ylabel="area (ha)",
           xlabel="acquisition date (UTC)")  # fmt: skip
    top = max([(p.area_m2 or 0) / 1e4 for p in done] + [0.1])
    ax.set_ylim(0, top * 1.3)  # room for the legend above the line
    ax.legend(loc="upper left", ncols=2)
    fig.autofmt_xdate()
    with atomic_output(Path(path), ".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def _read(url: str) -> np.ndarray:
    """A product raster as float32, NaN where it holds nodata."""
    import fsspec
    from rasterio.io import MemoryFile

    with fsspec.open(url, "rb") as f, MemoryFile(f.read()) as memory, memory.open() as ds:
        return np.asarray(ds.read(masked=True).astype(np.float32).filled(np.nan))


def _rgb_pair(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both dates stretched alike (percentiles of the pixels both see), so colours compare;
    unseen pixels mid-grey."""
    from slidewatch.rgb import stretch_rgb

    seen = [np.isfinite(image).all(axis=0) for image in (pre, post)]
    both = seen[0] & seen[1]
    return stretch_rgb(pre, seen[0], region=both), stretch_rgb(post, seen[1], region=both)


def _chosen(registry: Any, name: str, run_ids: list[int] | None) -> list[Any]:
    runs = [r for r in registry.runs(name) if r.state == RunState.DONE]
    if run_ids:
        by_id = {r.id: r for r in runs}
        missing = [i for i in run_ids if i not in by_id]
        if missing:
            raise RegistryError(f"run(s) {missing} of {name!r} are not done runs; "
                                f"done runs: {sorted(by_id)}")  # fmt: skip
        return [by_id[i] for i in run_ids]
    changed = [r for r in runs if r.stats.get("new_area_m2") and r.stats.get("previous_run")]
    chosen = changed[:1] or [r for r in runs if r.stats.get("previous_run")][:1]
    if not chosen:
        raise RegistryError(f"AOI {name!r} has no run with a previous one yet; run it twice")
    return chosen


def draw_panels(registry: Any, name: str, run_ids: list[int] | None, path: Path) -> None:
    """For each chosen run: pre-event RGB | post-event RGB | detection and change over it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from slidewatch.atomic import atomic_output

    chosen = _chosen(registry, name, run_ids)
    fig, axes = plt.subplots(len(chosen), 3, figsize=(12, 4.2 * len(chosen)), squeeze=False,
                             layout="constrained")  # fmt: skip
    for row, run in zip(axes, chosen, strict=True):
        pre_run = registry.run(run.stats["previous_run"]["id"])
        pre, post = _rgb_pair(_read(pre_run.products["rgb.tif"]), _read(run.products["rgb.tif"]))
        change = np.nan_to_num(_read(run.products["change.tif"])[0], nan=255)
        overlay = post.copy()
        colours = {1: (1.0, 0.1, 0.1), 2: (1.0, 0.85, 0.0), 3: (0.1, 0.6, 1.0)}
        for value, colour in colours.items():
            overlay[change == value] = 0.35 * overlay[change == value] + 0.65 * np.array(colour)
        overlay[change == 255] = 0.5 * overlay[change == 255] + 0.5
        titles = (f"pre-event {pre_run.acquisition_date}", f"post-event {run.acquisition_date}",
                  f"detection and change (run {run.id})")  # fmt: skip
        for ax, image, title in zip(row, (pre, post, overlay), titles, strict=True):
            ax.imshow(image, interpolation="nearest")
            ax.set_title(title)
            ax.set_axis_off()
    legend = [Patch(color=c, label=label) for c, label in (
        ((1.0, 0.1, 0.1), "new"), ((1.0, 0.85, 0.0), "persisting"), ((0.1, 0.6, 1.0), "gone"),
        ((0.85, 0.85, 0.85), "unknown (unseen)"))]  # fmt: skip
    fig.legend(handles=legend, loc="outside lower center", ncols=4, frameon=False)
    fig.suptitle(f"{name}: SYNTHETIC data" if "EXAMPLE" in str(chosen[0].scenes) else name)
    with atomic_output(Path(path), ".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
