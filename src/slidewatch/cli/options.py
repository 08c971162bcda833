"""Options shared by several commands, declared once so they mean the same everywhere."""

from __future__ import annotations

import click

band_order_option = click.option(
    "--band-order",
    default=None,
    metavar="B4,B3,B2,B8",
    help="The L4S band of each scene band, in file order, when the file's band "
    "descriptions do not say (B4 or B04; also red, green, blue, nir, swir1, swir2...). "
    "For tiles, name the bands of one tile.",
)

scale_option = click.option(
    "--scale",
    type=click.Choice(["auto", "l4s", "none"]),
    default="auto",
    show_default=True,
    help="l4s: divide raw values by the L4S vector; none: values are already L4S scale; "
    "auto: a SLIDEWATCH_SCALE tag if present, else l4s when the band medians look raw.",
)
