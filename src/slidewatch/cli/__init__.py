"""The ``slidewatch`` command line: thin commands that parse, call one library function,
and map library errors to a one-line message and an exit code.

Each command group lives in its own module (``cli/data.py``, ``cli/models.py``,
``cli/train.py``, ``cli/detect.py``, ``cli/demo.py``) and is imported lazily so that
``slidewatch data check`` never pays for importing torch.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from slidewatch import __version__
from slidewatch.errors import SlidewatchError

# command name -> ("module:attribute" of a click.Command or click.Group, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("slidewatch.cli.data:data", "Check, describe, cache and build L4S patch datasets."),
    "models": ("slidewatch.cli.models:models", "List the model architectures."),
    "export": ("slidewatch.cli.models:export", "Export a model directory to ONNX."),
    "train": ("slidewatch.cli.train:train", "Train a segmentation model on patch datasets."),
    "evaluate": ("slidewatch.cli.train:evaluate", "Evaluate a model on a patch dataset."),
    "experiments": (
        "slidewatch.cli.experiments:experiments",
        "Run a grid of training experiments.",
    ),
    "detect": ("slidewatch.cli.detect:detect", "Detect landslides over a georeferenced scene."),
    "demo": ("slidewatch.cli.demo:demo", "Run the whole pipeline on synthetic data."),
    "monitor": ("slidewatch.cli.monitor:monitor", "Watch areas on a schedule; alert on change."),
    "fetch": ("slidewatch.cli.fetch:fetch", "Fetch a Sentinel-2 + DEM stack of an area."),
    "catalog": (
        "slidewatch.cli.catalog:catalog",
        "Catalogue Sentinel-2 products and a DEM you already have (STAC).",
    ),
    "label": ("slidewatch.cli.label:label", "Label patches in the browser; export them."),
    "serve": ("slidewatch.cli.serve:serve", "Serve the REST API, map tiles and the web map."),
}

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target = COMMANDS[cmd_name][0]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and not exc.name.startswith("slidewatch"):
                raise click.ClickException(
                    f"'slidewatch {cmd_name}' needs the Python package {exc.name!r}, which is "
                    f"not installed; install it with: pip install 'slidewatch[ml]'"
                ) from exc
            raise
        cmd = getattr(module, attr)
        if not isinstance(cmd, click.Command):  # a wiring mistake in COMMANDS, not user input
            raise TypeError(f"{target} is not a click command")
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing uses the static help so that `slidewatch --help` imports nothing heavy.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class UserError(click.ClickException):
    """A library error shown as ``Error: message`` with exit code 2 (no traceback)."""

    exit_code = EXIT_USER_ERROR


def _as_user_error(exc: BaseException) -> click.ClickException:
    if isinstance(exc, FileNotFoundError):
        return UserError(f"{exc.filename or exc}: file not found; check the path")
    if isinstance(exc, PermissionError):
        return UserError(f"{exc.filename or exc}: permission denied; choose a writable location")
    if isinstance(exc, MemoryError):
        return UserError("out of memory; lower --batch-size or --tile-px")
    return UserError(str(exc))


class SafeLazyGroup(LazyGroup):
    """Maps library errors to clean messages, also under click's test runner."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SlidewatchError, FileNotFoundError, PermissionError, MemoryError) as exc:
            raise _as_user_error(exc) from exc


@click.group(cls=SafeLazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slidewatch")
def cli() -> None:
    """slidewatch: find and monitor landslides in Sentinel-2 + DEM imagery."""
    from slidewatch.application.settings import Settings

    Settings.read().apply()  # the knobs of every command (SLIDEWATCH_ENGINE_TABLE)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="slidewatch")
    except KeyboardInterrupt:
        click.secho("Error: interrupted", fg="red", err=True)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    main()
