"""``slidewatch monitor export-reviews``: reviewed landslides → L4S training patches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import home_options


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: give a date like 2026-03-20") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("export-reviews")
@click.argument("aois", nargs=-1, metavar="[AOI]...")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Patch folder (created; a re-export adds what is new).")  # fmt: skip
@click.option("--since", default=None, metavar="DATE",
              help="Only verdicts given on or after this date (UTC).")  # fmt: skip
@click.option("--verdict", "verdicts", default="confirmed,rejected", show_default=True,
              help="Verdicts to export, comma-separated.")  # fmt: skip
@home_options
def export_reviews(aois: tuple[str, ...], out: Path, since: str | None, verdicts: str,
                   settings: Any) -> None:  # fmt: skip
    """Cut the reviewed landslides of AOI... (default: all) from their archived stacks into
    L4S patches: the polygon as mask (confirmed) or none (rejected), the pre-event window
    in pre/ when archived, an index of bounds, CRS, source and review."""
    from slidewatch.application.export_reviews import ExportRequest
    from slidewatch.application.export_reviews import export_reviews as run_export
    from slidewatch.application.review import parse_verdict

    chosen = tuple(parse_verdict(v.strip()) for v in verdicts.split(",") if v.strip())
    report = run_export(settings, ExportRequest(out, aois, _since(since), chosen))
    wrote = ", ".join(f"{n} {k}" for k, n in sorted(report.written.items())) or "nothing new"
    click.echo(f"wrote {wrote} into {report.out} ({report.patches} patches in the folder)")
    for reason, n in sorted(report.skipped.items()):
        click.echo(f"skipped {n}: {reason}")
