"""The smallest size at which each panel of a VariableView stays readable.

Set from outside the view (by ViewsArea), so that a grid of views never squeezes a panel
below these: the heatmap, the histogram and the distribution side by side, the trajectories.
"""

from __future__ import annotations

HEATMAP_MIN = (240, 150)  # (width, height) of the heatmap with its axes and colour bar
SIDE_PLOT_MIN = (165, 140)  # the histogram and the distribution over time, side by side
TITLE_MARGIN = 8  # pixels beside a plot's title
SIDE_PLOT_MAX_WIDTH = 205  # a longer title may overlap its neighbour at the minimum size
PLOTS_MARGIN = 36  # pyqtgraph's layout margins and spacing around the plots, in pixels


def apply_minimums(view) -> None:
    """Give the panels of `view` (a VariableView) their minimum sizes, and the view the sum."""
    view.graphics.setMinimumSize(*HEATMAP_MIN)
    side_w, side_h = SIDE_PLOT_MIN
    for plot in (view.hist_plot, view.distribution.plot):  # wide enough for its title, nearly
        title = int(plot.titleLabel.item.boundingRect().width()) + TITLE_MARGIN
        side_w = max(side_w, min(title, SIDE_PLOT_MAX_WIDTH))
    for plot in (view.hist_plot, view.distribution.plot):
        plot.setMinimumSize(side_w, side_h)
    trajectories = view.trajectories.plot
    trajectories.setMinimumWidth(2 * side_w)
    view.plots.setMinimumSize(2 * side_w + PLOTS_MARGIN,
                              side_h + int(trajectories.minimumHeight()) + PLOTS_MARGIN)


def least_height(view, width: int) -> int:
    """The height `view` needs at `width`: its panels' minimums and its labels as wrapped."""
    extra = 0
    for label in (view.title, view.stats, view.hover):
        extra += max(0, label.heightForWidth(width) - label.minimumSizeHint().height())
    return view.minimumSizeHint().height() + extra


def panels(view) -> dict[str, tuple[object, tuple[int, int]]]:
    """Each panel of `view` with its (width, height) now and its minimum (tests check them)."""
    items = {"heatmap": view.graphics, "plots": view.plots, "histogram": view.hist_plot,
             "distribution": view.distribution.plot, "trajectories": view.trajectories.plot}
    out = {}
    for name, item in items.items():
        size = item.size()
        minimum = item.minimumSize()
        out[name] = ((int(size.width()), int(size.height())),
                     (int(minimum.width()), int(minimum.height())))
    return out
