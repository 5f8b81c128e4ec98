"""Look and feel shared by the widgets: pyqtgraph options, colour map, pens."""

from __future__ import annotations

import functools

COLORMAP = "CET-D1A"  # diverging blue-white-red, centred at zero
SEQUENTIAL_COLORMAP = "viridis"  # for variables on one side of zero: dark low, yellow high
CURRENT_PEN = {"color": (220, 60, 30), "width": 1.5}
TRACE_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


@functools.cache
def configure() -> None:
    """Global pyqtgraph options; called once before any plot is made."""
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="k",
                        antialias=False, exitCleanup=False)


def colormap(diverging: bool = True):
    import pyqtgraph as pg

    return pg.colormap.get(COLORMAP if diverging else SEQUENTIAL_COLORMAP)


def lut():
    return colormap().getLookupTable(nPts=256, alpha=False)


def trace_color(i: int) -> tuple[int, int, int]:
    return TRACE_COLORS[i % len(TRACE_COLORS)]
