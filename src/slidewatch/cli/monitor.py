"""``slidewatch monitor``: areas watched on a schedule (add, list, run-once, history)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import aoi_option, source_options

HOME_ENV = "SLIDEWATCH_HOME"
DEFAULT_HOME = "./slidewatch-data"


def _home_options(func: Any) -> Any:
    """``--home``, ``--db`` and ``--storage``, shared by every monitor command."""
    options = [
        click.option("--home", type=click.Path(path_type=Path), envvar=HOME_ENV,
                     default=DEFAULT_HOME, show_default=True,
                     help=f"Folder of the registry and archive (env {HOME_ENV})."),
        click.option("--db", default=None, metavar="URL",
                     help="Registry database, any SQLAlchemy URL (PostgreSQL for several "
                          "processes or machines).  [default: sqlite:///HOME/registry.db]"),
        click.option("--storage", default=None, metavar="URL",
                     help="Archive root: a folder or an fsspec URL (s3://, gs://).  "
                          "[default: HOME/archive]"),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _config(home: Path, db: str | None, storage: str | None, **extra: Any) -> Any:
    from slidewatch.monitoring.look import MonitorConfig

    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    return MonitorConfig(
        db_url=db or f"sqlite:///{home.resolve() / 'registry.db'}",
        storage=storage or str(home.resolve() / "archive"),
        work_dir=str(home.resolve() / "work"),
        **extra,
    )


def _registry(config: Any) -> Any:
    from slidewatch.monitoring.registry import Registry

    return Registry(config.db_url)


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
    default=5.0,
    show_default=True,
    help="Look again this many days after the last look.",
)
@click.option(
    "--lookback-days",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="How far back the first look searches.",
)
@click.option(
    "--min-new-area-m2",
    type=click.FloatRange(min=0),
    default=2000.0,
    show_default=True,
    help="Alert on new or grown landslides of at least this area.",
)
@click.option(
    "--max-cloud-pct",
    type=click.FloatRange(0, 100),
    default=80.0,
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
@source_options
@_home_options
def add(name: str, aoi: Any, model_dir: Path, cadence_days: float, lookback_days: float,
        min_new_area_m2: float, max_cloud_pct: float, webhooks: tuple[str, ...],
        emails: tuple[str, ...], source: Any, home: Path, db: str | None,
        storage: str | None) -> None:  # fmt: skip
    """Register AOI NAME: its area, model, imagery source, cadence, thresholds and alerts."""
    from slidewatch.acquisition.served import bands_for_model
    from slidewatch.models.modelfile import model_hash, read_spec
    from slidewatch.monitoring.registry.aois import AoiSettings

    spec = read_spec(model_dir)  # a readable model, or a clear error now, not at the first run
    # Without --bands (auto), the model's own bands; B10 from an L2A collection refused now.
    source = bands_for_model(source, spec.bands, str(model_dir))
    settings = AoiSettings(
        name=name, geometry=aoi.to_geojson(), model_path=str(Path(model_dir).resolve()),
        model_hash=model_hash(model_dir), source=source.to_dict(), cadence_days=cadence_days,
        lookback_days=lookback_days, min_new_area_m2=min_new_area_m2,
        max_cloud_pct=max_cloud_pct, webhooks=webhooks, emails=emails,
    )  # fmt: skip
    config = _config(home, db, storage)
    with _registry(config) as registry:
        registry.add_aoi(settings)
    click.echo(f"added AOI {name} ({aoi.area_km2:.2f} km², every {cadence_days:g} days) to "
               f"{config.db_url}")  # fmt: skip


@monitor.command(name="list")
@_home_options
def list_aois(home: Path, db: str | None, storage: str | None) -> None:
    """The registered AOIs, their last run and whether they are due now."""
    from slidewatch.monitoring.look.schedule import due
    from slidewatch.monitoring.registry import runs
    from slidewatch.monitoring.registry.tables import utcnow

    now = utcnow()
    with _registry(_config(home, db, storage)) as registry:
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


def _smtp() -> Any:
    from slidewatch.monitoring.alerts import SmtpSettings

    env = os.environ.get
    return SmtpSettings(
        host=env("SLIDEWATCH_SMTP_HOST", "localhost"), port=int(env("SLIDEWATCH_SMTP_PORT", "25")),
        sender=env("SLIDEWATCH_SMTP_FROM", "slidewatch@localhost"),
        user=env("SLIDEWATCH_SMTP_USER"), password=env("SLIDEWATCH_SMTP_PASSWORD"),
        starttls=env("SLIDEWATCH_SMTP_STARTTLS", "0") == "1",
    )  # fmt: skip


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
@_home_options
def run_once(names: tuple[str, ...], now: str | None, workers: int | None,
             dask_address: str | None, home: Path, db: str | None,
             storage: str | None) -> None:  # fmt: skip
    """Look at every due AOI, then deliver pending alerts (for cron or a systemd timer).

    E-mail goes through SLIDEWATCH_SMTP_HOST/PORT/FROM/USER/PASSWORD/STARTTLS.
    Exit status 1 when a run failed (the others still ran).
    """
    from slidewatch.monitoring.look.cycle import run_once as run

    config = _config(home, db, storage, smtp=_smtp())
    outcomes, deliveries = run(config, list(names) or None, _parse_now(now), workers,
                               dask_address)  # fmt: skip
    for o in outcomes:
        extra = f"{o.landslides} landslides, {o.alerts} alerts" if o.state == "done" else ""
        click.echo(f"{o.aoi:<16} {o.acquisition_date or '-':<10} {o.state:<8} "
                   f"{extra or o.reason or ''}")  # fmt: skip
    if not outcomes:
        click.echo("nothing due")
    click.echo("deliveries: " + ", ".join(f"{v} {k}" for k, v in deliveries.items()))
    if any(o.state == "failed" for o in outcomes):
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
@_home_options
def history(name: str, plot: Path | None, panels: Path | None, run_ids: tuple[int, ...],
            as_json: bool, home: Path, db: str | None, storage: str | None) -> None:  # fmt: skip
    """The time series of AOI NAME: landslide area and changes per acquisition."""
    from slidewatch.monitoring import history as hist

    config = _config(home, db, storage)
    with _registry(config) as registry:
        rows = hist.time_series(registry, name)  # counts as the API counts them
        if as_json:
            click.echo(json.dumps([r.__dict__ for r in rows], indent=1))
        else:
            click.echo(hist.format_table(rows))
        if plot:
            hist.plot_history(rows, name, plot)
            click.echo(f"wrote {plot}")
        if panels:
            hist.draw_panels(registry, name, list(run_ids) or None, panels)
            click.echo(f"wrote {panels}")


@monitor.command()
@click.argument("name")
@_home_options
def remove(name: str, home: Path, db: str | None, storage: str | None) -> None:
    """Remove AOI NAME with its runs and alerts (archived products stay)."""
    with _registry(_config(home, db, storage)) as registry:
        registry.delete_aoi(name)
    click.echo(f"removed AOI {name}")


@monitor.command()
@click.argument("name")
@_home_options
def pause(name: str, home: Path, db: str | None, storage: str | None) -> None:
    """Stop looking at AOI NAME (its history stays); 'monitor resume' starts again."""
    with _registry(_config(home, db, storage)) as registry:
        registry.update_aoi(name, active=False)
    click.echo(f"paused AOI {name}")


@monitor.command()
@click.argument("name")
@_home_options
def resume(name: str, home: Path, db: str | None, storage: str | None) -> None:
    """Look at AOI NAME again on its schedule."""
    with _registry(_config(home, db, storage)) as registry:
        registry.update_aoi(name, active=True)
    click.echo(f"resumed AOI {name}")
