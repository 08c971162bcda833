"""``slidewatch serve``: the REST API, tiles, OGC API - Processes and the web map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Folder of the default registry and archive  [env SLIDEWATCH_HOME; "
              "default: ./slidewatch-data]")  # fmt: skip
@click.option(
    "--db", "db_url", default=None, help="Registry SQLAlchemy URL (default: under --home)."
)
@click.option("--storage", default=None,
              help="Archive folder or fsspec URL, s3://… (default: under --home).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--scheduler/--no-scheduler", default=None,
              help="Also run the monitoring schedule in this process  [default: no]")  # fmt: skip
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True)  # fmt: skip
def serve(
    home: Path | None, db_url: str | None, storage: str | None, host: str, port: int,
    scheduler: bool | None, log_level: str,
) -> None:  # fmt: skip
    """Serve the API and the web map at http://HOST:PORT/ (settings also from SLIDEWATCH_*)."""
    import uvicorn

    from slidewatch.service.app import create_app
    from slidewatch.service.settings import ServiceSettings

    overrides: dict[str, Any] = {
        "home": home,
        "db_url": db_url,
        "storage": storage,
        "scheduler": scheduler,
    }
    settings = ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
    app = create_app(settings)
    click.echo(f"slidewatch: serving http://{host}:{port}/ (API docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
