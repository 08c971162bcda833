"""``slidewatch monitor``: areas watched on a schedule (add, list, run-once, history, review)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from slidewatch.application.aois import AOI_DEFAULTS
from slidewatch.cli.options import aoi_option, home_options, source_options


def _registry(settings: Any) -> Any:
    from slidewatch.monitoring.registry import Registry

    return Registry(settings.layout.created().registry_url)


@click.group()
def monitor() -> None:
    """Watch areas on a schedule: new imagery → detection → change → alerts."""


@monitor.command()
@click.argument("name")
@aoi_option(required=True)
@click.option("--model", "model_dir", required=True, type=click.Path(path_type=Path),
              help="Model directory used by every run (its hash is recorded).")  # fmt: skip
@click.option(
    "--cadence-days",
    type=click.FloatRange(min=0, min_open=True),
    default=AOI_DEFAULTS["cadence_days"],
    show_default=True,
    help="Look again this many days after the last look.",
)
@click.option(
    "--lookback-days",
    type=click.FloatRange(min=0, min_open=True),
    default=AOI_DEFAULTS["lookback_days"],
    show_default=True,
    help="How far back the first look searches.",
)
@click.option(
    "--min-new-area-m2",
    type=click.FloatRange(min=0),
    default=AOI_DEFAULTS["min_new_area_m2"],
    show_default=True,
    help="Alert on new or grown landslides of at least this area.",
)
@click.option(
    "--max-cloud-pct",
    type=click.FloatRange(0, 100),
    default=AOI_DEFAULTS["max_cloud_pct"],
    show_default=True,
    help="Skip acquisitions with more cloud over the AOI.",
)
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    metavar="URL",
    help="POST alerts (JSON) to this URL; repeat for several.",
)
@click.option("--email", "emails", multiple=True, metavar="ADDRESS",
              help="E-mail alerts to this address; repeat for several.")  # fmt: skip
@click.option(
    "--webhook-secret",
    default=None,
    metavar="whsec_…",
    help="Sign webhooks (Standard Webhooks: webhook-id, -timestamp, -signature).",
)
@click.option(
    "--alert-on",
    type=click.Choice(["possible", "confirmed"]),
    default="possible",
    show_default=True,
    help="Send events from this confidence on (confirmed: a second look).",
)
@click.option(
    "--alert-grouping",
    type=click.Choice(["auto", "event", "digest"]),
    default="auto",
    show_default=True,
    help="One event per landslide, a digest per run, or auto (digest above 5).",
)
@click.option(
    "--min-slope-deg",
    type=float,
    default=None,
    help="Alert only where the mean slope is at least this (off by default).",
)
@click.option(
    "--max-vegetation-change",
    type=float,
    default=None,
    help="Alert only where NDVI changed by at most this, e.g. -0.1 (off by default).",
)
@click.option("--min-elevation-m", type=float, default=None, help="Alert only at or above this.")
@click.option("--max-elevation-m", type=float, default=None, help="Alert only at or below this.")
@source_options
@home_options
def add(name: str, aoi: Any, model_dir: Path, cadence_days: float, lookback_days: float,
        min_new_area_m2: float, max_cloud_pct: float, webhooks: tuple[str, ...],
        emails: tuple[str, ...], webhook_secret: str | None, alert_on: str,
        alert_grouping: str, min_slope_deg: float | None,
        max_vegetation_change: float | None, min_elevation_m: float | None,
        max_elevation_m: float | None, source: Any, settings: Any) -> None:  # fmt: skip
    """Register AOI NAME: its area, model, imagery source, cadence, thresholds and alerts."""
    from slidewatch.application.aois import AoiRegistration, register_aoi
    from slidewatch.monitoring.confidence import AlertFilters
    from slidewatch.monitoring.imagery import RegisteredModel
    from slidewatch.monitoring.kinds import AlertOn, Grouping

    filters = AlertFilters(min_slope_deg, max_vegetation_change, min_elevation_m,
                           max_elevation_m)  # fmt: skip

    request = AoiRegistration(
        name=name, geometry=aoi.to_geojson(), model=RegisteredModel.at(model_dir),
        model_label=str(model_dir), source=source, cadence_days=cadence_days,
        lookback_days=lookback_days, min_new_area_m2=min_new_area_m2,
        max_cloud_pct=max_cloud_pct, webhooks=webhooks, emails=emails,
        alert_on=AlertOn(alert_on), alert_grouping=Grouping(alert_grouping),
        alert_filters=filters, webhook_secret=webhook_secret,
    )  # fmt: skip
    with _registry(settings) as registry:
        register_aoi(registry, request, settings.webhook_targets)
    click.echo(f"added AOI {name} ({aoi.area_km2:.2f} km², every {cadence_days:g} days) to "
               f"{settings.layout.registry_shown}")  # fmt: skip


@monitor.command(name="list")
@home_options
def list_aois(settings: Any) -> None:
    """The registered AOIs, their last run and whether they are due now."""
    from slidewatch.monitoring.look.schedule import due
    from slidewatch.monitoring.registry import runs
    from slidewatch.monitoring.registry.tables import utcnow

    now = utcnow()
    with _registry(settings) as registry:
        aois = registry.list_aois()
        if not aois:
            click.echo("no AOIs; add one with 'slidewatch monitor add NAME --aoi … --model …'")
        for aoi in aois:
            last = registry.runs(aoi.name, limit=1)
            decision = due(aoi.active, aoi.cadence_days, runs.looks(registry, aoi.id), now)
            last_text = (f"last {last[0].acquisition_date or '-'} {last[0].state}"
                         if last else "never run")  # fmt: skip
            when = (
                "due now" if decision.due
                else f"next {decision.next_at:%Y-%m-%d %H:%M}Z" if decision.next_at
                else decision.reason
            )  # fmt: skip
            state = "active" if aoi.active else "paused"
            click.echo(f"{aoi.name:<16} {state:<7} every {aoi.cadence_days:g} d  {last_text}  "
                       f"{when}  model {aoi.model_hash[:12]}")  # fmt: skip


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: give an ISO time like 2023-03-20T00:00:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@monitor.command(name="run-once")
@click.option(
    "--aoi",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only these AOIs (repeat); default: every active AOI.",
)
@click.option(
    "--now",
    default=None,
    metavar="ISO-TIME",
    help="Look as of this time (UTC) instead of the current time.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Spread the looks over a local Dask cluster of N worker processes.",
)
@click.option(
    "--dask-address",
    default=None,
    metavar="ADDRESS",
    help="Spread the looks over a running Dask scheduler (tcp://host:8786).",
)
@home_options
def run_once(names: tuple[str, ...], now: str | None, workers: int | None,
             dask_address: str | None, settings: Any) -> None:  # fmt: skip
    """Look at every due AOI, then deliver pending alerts (for cron or a systemd timer).

    E-mail goes through SLIDEWATCH_SMTP_HOST/PORT/FROM/USER/PASSWORD/STARTTLS.
    Exit status 1 when a run failed (the others still ran).
    """
    from slidewatch.application.runs import RunRequest, run_due

    request = RunRequest(names, _parse_now(now), workers, dask_address)
    report = run_due(settings, request)
    for o in report.outcomes:
        extra = f"{o.landslides} landslides, {o.alerts} alerts" if o.state == "done" else ""
        click.echo(f"{o.aoi:<16} {o.acquisition_date or '-':<10} {o.state:<8} "
                   f"{extra or o.reason or ''}")  # fmt: skip
    if not report.outcomes:
        click.echo("nothing due")
    click.echo("deliveries: " + ", ".join(f"{v} {k}" for k, v in report.deliveries.items()))
    if report.failed:
        raise SystemExit(1)


@monitor.command()
@click.argument("name")
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    default=None,
    help="Draw the landslide area per acquisition to this PNG.",
)
@click.option(
    "--panels",
    type=click.Path(path_type=Path),
    default=None,
    help="Draw pre-event RGB, post-event RGB and detection for chosen runs (PNG).",
)
@click.option(
    "--run",
    "run_ids",
    type=int,
    multiple=True,
    help="Runs drawn by --panels (repeat).  [default: the last run with a change]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@home_options
def history(name: str, plot: Path | None, panels: Path | None, run_ids: tuple[int, ...],
            as_json: bool, settings: Any) -> None:  # fmt: skip
    """The time series of AOI NAME: landslide area and changes per acquisition, then its
    latest alerts with each delivery's state and last error."""
    from slidewatch.monitoring import history as hist

    with _registry(settings) as registry:
        rows = hist.time_series(registry, name)  # counts as the API counts them
        if as_json:
            click.echo(json.dumps([r.__dict__ for r in rows], indent=1))
        else:
            click.echo(hist.format_table(rows))
            click.echo(hist.format_alerts(registry, name))
        if plot:
            hist.plot_history(rows, name, plot)
            click.echo(f"wrote {plot}")
        if panels:
            hist.draw_panels(registry, name, list(run_ids) or None, panels)
            click.echo(f"wrote {panels}")


@monitor.command()
@click.argument("name")
@home_options
def remove(name: str, settings: Any) -> None:
    """Remove AOI NAME with its runs and alerts (archived products stay)."""
    with _registry(settings) as registry:
        registry.delete_aoi(name)
    click.echo(f"removed AOI {name}")


@monitor.command()
@click.argument("name")
@home_options
def pause(name: str, settings: Any) -> None:
    """Stop looking at AOI NAME (its history stays); 'monitor resume' starts again."""
    with _registry(settings) as registry:
        registry.update_aoi(name, active=False)
    click.echo(f"paused AOI {name}")


@monitor.command()
@click.argument("name")
@home_options
def resume(name: str, settings: Any) -> None:
    """Look at AOI NAME again on its schedule."""
    with _registry(settings) as registry:
        registry.update_aoi(name, active=True)
    click.echo(f"resumed AOI {name}")


@monitor.command()
@click.argument("landslide_id", metavar="ID", type=int)
@click.option("--verdict", required=True, type=click.Choice(["confirmed", "rejected"]),
              help="Whether the landslide is real (confirmed) or wrong (rejected).")  # fmt: skip
@click.option("--note", default=None, help="Why (kept with the verdict).")
@click.option("--reviewer", default=None, metavar="NAME",
              help="Who reviews (default: cli:<login name>).")  # fmt: skip
@home_options
def review(landslide_id: int, verdict: str, note: str | None, reviewer: str | None,
           settings: Any) -> None:  # fmt: skip
    """Mark landslide ID confirmed or rejected; the last verdict wins, all are kept.

    A rejected landslide is not alerted again unless it grows well past its area then
    (the factor: docs/monitoring.md).
    """
    import getpass

    from slidewatch.application.review import ReviewRequest, parse_verdict, review_landslide

    who = reviewer or f"cli:{getpass.getuser()}"
    request = ReviewRequest(landslide_id, parse_verdict(verdict), who, note)
    with _registry(settings) as registry:
        result = review_landslide(registry, request)
    click.echo(f"landslide {result.landslide_id}: {result.verdict} by {result.reviewer} "
               f"at {result.reviewed_at:%Y-%m-%d %H:%M}Z; confidence now {result.confidence} "
               f"({result.reviews} verdict{'s' if result.reviews != 1 else ''})")  # fmt: skip
