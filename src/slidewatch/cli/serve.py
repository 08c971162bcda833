"""``slidewatch serve``: the REST API, tiles, OGC API - Processes and the web map."""

from __future__ import annotations

import click

from slidewatch.cli.options import home_options
from slidewatch.service.settings import ServiceSettings


@click.command()
@home_options(settings_class=ServiceSettings, also=("scheduler",))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--scheduler/--no-scheduler", default=None,
              help="Also run the monitoring schedule in this process  [default: no]")  # fmt: skip
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True)  # fmt: skip
def serve(settings: ServiceSettings, host: str, port: int, log_level: str) -> None:
    """Serve the API and the web map at http://HOST:PORT/ (settings also from SLIDEWATCH_*)."""
    import uvicorn

    from slidewatch.service.app import create_app

    app = create_app(settings)
    click.echo(f"slidewatch: serving http://{host}:{port}/ (API docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
