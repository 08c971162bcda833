"""``fetch_pair``: the clearest acquisition before an event and the clearest after it.

Pre-event: ``event - days`` to the day before the event; post-event: the event day to
``event + days``. On each side the acquisition with the lowest scene cloud cover is taken
(ties: the one closest to the event), alone rather than composited, so each stack shows
the ground on one date. ``pair.png`` shows both side by side, stretched alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from slidewatch.acquisition.acquisitions import Acquisition
from slidewatch.acquisition.aoi import AOI
from slidewatch.acquisition.options import SourceConfig
from slidewatch.acquisition.sources import make_source
from slidewatch.acquisition.stack import StackResult, fetch_stack, usable_acquisitions


@dataclass(frozen=True)
class PairResult:
    """The pre- and post-event stacks (``pre.tif``, ``post.tif`` in the output folder)."""

    pre: StackResult
    post: StackResult
    event_date: date
    picture_path: Path
    """``pair.png``: pre and post side by side (:func:`write_pair_picture`)."""


def clearest(acquisitions: list[Acquisition], event: date) -> Acquisition:
    """Lowest scene cloud cover (unknown counts as 100 %), ties: closest to ``event``."""
    return min(
        acquisitions,
        key=lambda a: (
            a.cloud_cover if a.cloud_cover is not None else 100.0,
            abs((a.date - event).days),
        ),
    )


def pair_windows(event: date, days: int) -> tuple[tuple[date, date], tuple[date, date]]:
    """((pre start, pre end), (post start, post end)) around ``event``."""
    return (event - timedelta(days=days), event - timedelta(days=1)), (
        event,
        event + timedelta(days=days),
    )


def fetch_pair(
    config: SourceConfig,
    aoi: AOI,
    event: date,
    days: int,
    out_dir: Path,
    command: str | None = None,
) -> PairResult:
    """Write ``out_dir/pre.tif`` and ``out_dir/post.tif`` (with masks and STAC items)."""
    source = make_source(config)
    stacks = []
    for name, (start, end) in zip(("pre", "post"), pair_windows(event, days), strict=True):
        pick = clearest(usable_acquisitions(source, aoi, start, end), event)
        stacks.append(
            fetch_stack(
                config,
                aoi,
                start,
                end,
                Path(out_dir) / f"{name}.tif",
                command=command,
                acquisitions=[pick],
            )
        )
    picture = write_pair_picture(stacks[0], stacks[1], event, Path(out_dir) / "pair.png")
    return PairResult(pre=stacks[0], post=stacks[1], event_date=event, picture_path=picture)


def write_pair_picture(pre: StackResult, post: StackResult, event: date, path: Path) -> Path:
    """Pre and post side by side, stretched alike, each titled with its scene ids and date."""
    from slidewatch.acquisition.quicklook import draw_panels, read_view, save_picture
    from slidewatch.atomic import atomic_output

    titles = [
        f"{name}: {a.date} ({100 * s.clear_fraction:.1f}% seen)\n{', '.join(a.scene_ids)}"
        for name, s in (("pre-event", pre), ("post-event", post))
        for a in s.acquisitions[:1]
    ]
    head = f"slidewatch fetch pair: event {event}, true colour, stretched alike"
    views = [read_view(s.path, s.mask_path) for s in (pre, post)]
    fig = draw_panels(views, titles, head)
    with atomic_output(path, suffix=".png") as tmp:
        save_picture(fig, tmp, "\n".join([head, *titles]))
    return path
