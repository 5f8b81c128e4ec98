"""Plots over the run: the distribution as quantile bands, and weight trajectories."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ..components import ColorScale, format_element
from ..components.colors import symlog
from . import style
from .symlog_ticks import set_symlog_ticks

MAX_BAND_POINTS = 4000
BANDS = (("q0.001", "q0.999", 45), ("q0.05", "q0.95", 80), ("q0.25", "q0.75", 130))
SPARSE_TEXT = [(0, 0.5), (2, 0.3)]  # value labels may fill this much of a short axis
TRAJECTORY_MIN_HEIGHT = 135
LABEL_PX = 18  # a vertical value axis gets at most one label per this many pixels


def coarser(spacing: float) -> float:
    """The next 'nice' tick spacing up: 1 → 2 → 5 → 10 (times a power of ten)."""
    power = 10.0 ** math.floor(math.log10(spacing) + 1e-9)
    mantissa = spacing / power
    return (2 if mantissa < 1.5 else 5 if mantissa < 3.5 else 10) * power


class SparseAxis(pg.AxisItem):
    """A value axis that labels only as many ticks as fit its length, so a short plot shows
    '0  0.5' rather than '0 0.2 0.4 0.6 0.8' drawn over each other."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTextLevel=0, textFillLimits=SPARSE_TEXT)

    def tickSpacing(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or size <= 0:
            return levels
        spacing, most = levels[0][0], max(2, int(size // LABEL_PX))
        span = abs(maxVal - minVal)
        while span / spacing >= most:
            spacing = coarser(spacing)
        return [(spacing, 0), *[level for level in levels if level[0] < spacing][:1]]


def sparse_axes() -> dict[str, pg.AxisItem]:
    """axisItems for a plot whose value axis may be short."""
    return {"left": SparseAxis("left")}


def thin(n: int, limit: int = MAX_BAND_POINTS) -> np.ndarray:
    """Positions to draw when a run has more points than a plot needs."""
    return np.arange(0, n, max(1, int(np.ceil(n / limit)))) if n else np.zeros(0, int)


def step_axis(plot: pg.PlotItem) -> None:
    """Label the x axis in global steps, and keep the value labels of a short plot apart."""
    plot.setLabel("bottom", "step")
    for side in ("bottom", "left"):
        plot.getAxis(side).setStyle(textFillLimits=SPARSE_TEXT)


CLIP_SPANS = 8  # bands are cut this many shown ranges beyond the range shown


def _within(limits: tuple[float, float], clip: tuple[float, float]) -> bool:
    """Whether bands cut to `clip` still draw right in `limits`: cut well outside them, and
    not so far that the shown range is a sliver of the cut one (Qt draws huge paths badly)."""
    span, clip_span = limits[1] - limits[0], clip[1] - clip[0]
    return (clip[0] <= limits[0] - span and limits[1] + span <= clip[1]
            and clip_span <= 4 * CLIP_SPANS * span)


class DistributionPlot:
    """Quantile bands of one variable over every step, from the recorded summaries."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.setTitle("distribution over time", size="9pt")
        step_axis(plot)
        plot.setMouseEnabled(x=True, y=False)
        self._curves: dict[str, pg.PlotDataItem] = {}
        for lo, hi, alpha in BANDS:
            a, b = self._curve(lo), self._curve(hi)
            plot.addItem(pg.FillBetweenItem(a, b, brush=(31, 119, 180, alpha)))
        self.median = plot.plot([], [], pen=pg.mkPen((20, 60, 120), width=1.5))
        self.cursor = pg.InfiniteLine(0, pen=pg.mkPen(**style.CURRENT_PEN))
        plot.addItem(self.cursor, ignoreBounds=True)
        self._columns: dict[str, np.ndarray] = {}
        self._x: np.ndarray | None = None
        self._linthresh = 0.0
        self._scale: ColorScale | None = None
        self._clip: tuple[float, float] | None = None  # the values the bands are cut to

    def _curve(self, column: str) -> pg.PlotDataItem:
        curve = pg.PlotDataItem([], [], pen=pg.mkPen((31, 119, 180, 60)))
        self.plot.addItem(curve)
        self._curves[column] = curve
        return curve

    def set_summary(self, columns: dict[str, np.ndarray], steps: np.ndarray) -> None:
        """Draw the quantile `columns` (one row per position) against global `steps`."""
        x = thin(min(len(columns["q0.5"]), len(steps)))
        self._columns = {name: values[x] for name, values in columns.items()}
        self._x = steps[x]
        self._redraw()

    def set_symlog(self, linthresh: float) -> None:
        """Draw the bands on a symmetric-log value axis (linthresh > 0) or a linear one."""
        if linthresh != self._linthresh:
            self._linthresh = linthresh
            self._redraw()

    def set_scale(self, scale: ColorScale | None) -> None:
        """Show the values of `scale` (per step or robust: the current step's colour scale),
        or (None, fixed) every band's whole range."""
        if scale == self._scale:
            return
        self._scale = scale
        limits = self._limits()
        if limits is not None and self._clip is not None and _within(limits, self._clip):
            self.plot.setYRange(*limits, padding=0.05)  # the bands as cut still do
        else:
            self._redraw()

    def _limits(self) -> tuple[float, float] | None:
        if self._scale is None:
            return None
        lo, hi = self._scale.low, self._scale.high
        if self._linthresh > 0:
            lo, hi = (float(v) for v in symlog(np.array([lo, hi]), self._linthresh))
        return lo, hi

    def _redraw(self) -> None:
        """Bands beyond the shown range are cut just outside it: a 1e19 point does not set
        the view, nor upset the drawing of the others."""
        if self._x is None:
            return
        limits, c = self._limits(), self._linthresh
        self._clip = None
        if limits is not None:
            span = limits[1] - limits[0]
            self._clip = (limits[0] - CLIP_SPANS * span, limits[1] + CLIP_SPANS * span)
        for name, curve in [*self._curves.items(), ("q0.5", self.median)]:
            y = self._columns[name]
            y = symlog(y, c) if c > 0 else y
            if self._clip is not None:
                y = np.clip(y, *self._clip)
            curve.setData(self._x, np.nan_to_num(y))
        if limits is None:
            self.plot.enableAutoRange(axis="y")
        else:
            self.plot.setYRange(*limits, padding=0.05)
        set_symlog_ticks(self.plot.getAxis("left"), *self._tick_span(), c, most=3)

    def _tick_span(self) -> tuple[float, float]:
        """The values the symlog ticks cover: every finite band value."""
        values = np.concatenate([v[np.isfinite(v)] for v in self._columns.values()] or [[0.0]])
        return (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)

    def set_cursor(self, step: int) -> None:
        self.cursor.setValue(step)


class TrajectoryPlot:
    """Chosen weights over every step; hovering names the weight and its value."""

    def __init__(self, plot: pg.PlotItem, name: str) -> None:
        self.plot, self.name = plot, name
        plot.setTitle("trajectories", size="9pt")
        step_axis(plot)
        plot.setMinimumHeight(TRAJECTORY_MIN_HEIGHT)
        self.curves: dict[tuple[int, ...], pg.PlotDataItem] = {}
        self.data: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
        self.background: list[pg.PlotDataItem] = []
        self.cursor = pg.InfiniteLine(0, pen=pg.mkPen(**style.CURRENT_PEN))
        plot.addItem(self.cursor, ignoreBounds=True)
        self.marker = pg.ScatterPlotItem(size=8, brush=(0, 0, 0), pen=None)
        plot.addItem(self.marker)
        self.marker.setVisible(False)  # shown once hovering puts it on a curve
        self.hint = pg.TextItem("click a weight in the heatmap to plot its trajectory",
                                color=(110, 110, 110), anchor=(0.5, 0.5))
        self.hint.setParentItem(plot.vb)
        plot.vb.sigResized.connect(self._place_hint)

    def _place_hint(self) -> None:
        rect = self.plot.vb.boundingRect()
        self.hint.setPos(rect.center())
        self.hint.setVisible(not self.data)
        self.plot.getAxis("left").setStyle(showValues=bool(self.data))  # no values: no labels

    def set_span(self, steps: np.ndarray) -> None:
        first, last = (int(steps[0]), int(steps[-1])) if len(steps) else (0, 1)
        self.plot.setXRange(first, max(last, first + 1), padding=0.02)
        self._place_hint()

    def set_cursor(self, step: int) -> None:
        self.cursor.setValue(step)

    def set_all(self, x: np.ndarray, rows: np.ndarray, elements: list[tuple[int, ...]]) -> None:
        """Every weight of a small variable, drawn thin (x: global steps, rows: x × elements)."""
        for item in self.background:
            self.plot.removeItem(item)
        self.background = []
        for k, element in enumerate(elements):
            r, g, b = style.trace_color(k)
            item = self.plot.plot(x, rows[:, k], pen=pg.mkPen((r, g, b, 110), width=1))
            self.background.append(item)
            self.data.setdefault(element, (x, rows[:, k]))
        self.plot.setTitle(f"all {len(elements)} weights over time — click to highlight",
                           size="9pt")
        self._place_hint()

    def set_trajectory(self, element: tuple[int, ...], x: np.ndarray, values: np.ndarray,
                       color: int) -> None:
        """One weight's `values` at global steps `x`, in trace colour number `color`."""
        self.data[element] = (x, values)
        curve = self.curves.get(element)
        pen = pg.mkPen(style.trace_color(color), width=2)
        if curve is None:
            curve = self.curves[element] = self.plot.plot(x, values, pen=pen)
        else:
            curve.setData(x, values)
            curve.setPen(pen)
        self._place_hint()

    def keep_only(self, elements: list[tuple[int, ...]]) -> None:
        for element in [e for e in self.curves if e not in elements]:
            self.plot.removeItem(self.curves.pop(element))
            self.data.pop(element, None)
        self._place_hint()

    def nearest(self, x: float, y: float) -> tuple[tuple[int, ...], int, float] | None:
        """The (element, step, value) of the curve point nearest to (x, y), by value."""
        best = None
        for element, (xs, ys) in self.data.items():
            if not len(xs):
                continue
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            value = float(ys[i])
            if np.isfinite(value) and (best is None or abs(value - y) < abs(best[2] - y)):
                best = (element, int(xs[i]), value)
        return best

    def hover_text(self, x: float, y: float) -> str:
        """'layer/kernel[3, 7] at step 120: 0.25' for the curve point nearest (x, y)."""
        hit = self.nearest(x, y)
        if hit is None:
            return ""
        element, step, value = hit
        self.marker.setData([step], [value])
        self.marker.setVisible(True)
        return f"{format_element(self.name, element)} at step {step}: {value:.6g}"
