"""Small maps with matplotlib: a figure whose axes show an image's pixels unscaled, axes in
the image's coordinates (lon/lat, or eastings/northings with the CRS named) and a scale bar
in metres. Used by detect's quicklook and fetch's stack picture."""

from __future__ import annotations

import math
from typing import Any

MIN_FIGURE_PX = 520
"""Small images are drawn larger so the legend and the labels fit."""


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``limit`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(limit))
    return max(m * power for m in (1.0, 2.0, 5.0) if m * power <= limit)


def metres_per_unit(crs: Any, latitude: float) -> float:
    """Ground metres per x unit of ``crs`` (degrees of longitude at ``latitude``, or metres)."""
    if crs.is_geographic:
        return 111_320.0 * math.cos(math.radians(latitude))
    return float(crs.linear_units_factor[1]) if crs.is_projected else 1.0


def axis_labels(ax: Any, crs: Any) -> None:
    """Label ``ax`` with the coordinates of ``crs`` (its name on the x axis)."""
    if crs.is_geographic:
        ax.set_xlabel(f"longitude (°), {crs.to_string()}", fontsize=8)
        ax.set_ylabel("latitude (°)", fontsize=8)
    else:
        ax.set_xlabel(f"easting (m), {crs.to_string()}", fontsize=8)
        ax.set_ylabel("northing (m)", fontsize=8)
        ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=7)


def scale_bar(ax: Any, crs: Any, bounds: tuple[float, float, float, float]) -> None:
    """A scale bar (a quarter of the width, rounded to 1, 2 or 5 × 10^k m) at lower right."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    west, south, east, north = bounds
    per_unit = metres_per_unit(crs, (south + north) / 2)
    metres = nice_length((east - west) * per_unit / 4)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    bar = AnchoredSizeBar(
        ax.transData, metres / per_unit, label, "lower right", pad=0.4, color="black",
        frameon=True, size_vertical=(north - south) / 150, fontproperties={"size": 8},
    )  # fmt: skip
    bar.patch.set_alpha(0.8)
    ax.add_artist(bar)


def map_figure(
    plt: Any, height: int, width: int, panels: int = 1, title_lines: int = 1
) -> tuple[Any, list[Any]]:
    """A figure of ``panels`` axes side by side, each showing ``height`` × ``width`` pixels
    unscaled (small ones enlarged), with margins for the tick labels and a title of
    ``title_lines`` lines."""
    zoom = max(1.0, MIN_FIGURE_PX / max(height, width))
    map_w, map_h = width * zoom / 100, height * zoom / 100  # inches at 100 dpi
    gap, top = 1.1, 0.35 + 0.15 * (title_lines - 1)
    fig_w, fig_h = panels * map_w + (panels - 1) * gap + 1.3, map_h + 0.75 + top
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=100)
    axes = [
        fig.add_axes(
            ((1.0 + k * (map_w + gap)) / fig_w, 0.75 / fig_h, map_w / fig_w, map_h / fig_h)
        )
        for k in range(panels)
    ]
    return fig, axes
