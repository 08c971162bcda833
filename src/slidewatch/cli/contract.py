"""The data contract on the command line: ``--strict`` and warnings shown as ``Warning: ...``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

strict_option = click.option(
    "--strict",
    is_flag=True,
    help="Stop (exit 2) when the input's values do not look like the model's training data "
    "(swapped bands, wrong scale or units); without it, such a mismatch is a warning.",
)


@contextmanager
def contract_warnings_shown() -> Iterator[None]:
    """Show data-contract warnings as soon as they happen, one ``Warning: ...`` line each
    on stderr (not Python's file:line format); other warnings are left as they are."""
    from slidewatch.data.contract import DataContractWarning

    with warnings.catch_warnings():
        previous = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if issubclass(category, DataContractWarning):
                click.secho(f"Warning: {message}", fg="yellow", err=True)
            else:
                previous(message, category, *args, **kwargs)

        warnings.showwarning = show
        warnings.simplefilter("always", DataContractWarning)
        yield
