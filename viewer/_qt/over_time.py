"""Plots over the run: the distribution as quantile bands, and weight trajectories."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..components import format_element
from . import style

MAX_BAND_POINTS = 4000
BANDS = (("q0.001", "q0.999", 45), ("q0.05", "q0.95", 80), ("q0.25", "q0.75", 130))


def thin(n: int, limit: int = MAX_BAND_POINTS) -> np.ndarray:
    """Positions to draw when a run has more points than a plot needs."""
    return np.arange(0, n, max(1, int(np.ceil(n / limit)))) if n else np.zeros(0, int)


class DistributionPlot:
    """Quantile bands of one variable over every step, from the recorded summaries."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.setTitle("distribution over time", size="9pt")
        plot.setLabel("bottom", "position")
        plot.setMouseEnabled(x=True, y=False)
        self._curves: dict[str, pg.PlotDataItem] = {}
        for lo, hi, alpha in BANDS:
            a, b = self._curve(lo), self._curve(hi)
            plot.addItem(pg.FillBetweenItem(a, b, brush=(31, 119, 180, alpha)))
        self.median = plot.plot([], [], pen=pg.mkPen((20, 60, 120), width=1.5))
        self.cursor = pg.InfiniteLine(0, pen=pg.mkPen(**style.CURRENT_PEN))
        plot.addItem(self.cursor, ignoreBounds=True)

    def _curve(self, column: str) -> pg.PlotDataItem:
        curve = pg.PlotDataItem([], [], pen=pg.mkPen((31, 119, 180, 60)))
        self.plot.addItem(curve)
        self._curves[column] = curve
        return curve

    def set_summary(self, columns: dict[str, np.ndarray]) -> None:
        n = len(columns["q0.5"])
        x = thin(n)
        for name, curve in self._curves.items():
            curve.setData(x, np.nan_to_num(columns[name][x]))
        self.median.setData(x, np.nan_to_num(columns["q0.5"][x]))

    def set_cursor(self, index: int) -> None:
        self.cursor.setValue(index)


class TrajectoryPlot:
    """Chosen weights over every step; hovering names the weight and its value."""

    def __init__(self, plot: pg.PlotItem, name: str) -> None:
        self.plot, self.name = plot, name
        plot.setTitle("trajectories", size="9pt")
        plot.setLabel("bottom", "position")
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

    def set_span(self, num_steps: int) -> None:
        self.plot.setXRange(0, max(num_steps - 1, 1), padding=0.02)
        self._place_hint()

    def set_cursor(self, index: int) -> None:
        self.cursor.setValue(index)

    def set_all(self, x: np.ndarray, rows: np.ndarray, elements: list[tuple[int, ...]]) -> None:
        """Every weight of a small variable, drawn thin (rows: positions × elements)."""
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

    def set_trajectory(self, element: tuple[int, ...], values: np.ndarray, color: int) -> None:
        x = np.arange(len(values))
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
        """The (element, position, value) of the curve point nearest to (x, y), by value."""
        best = None
        for element, (xs, ys) in self.data.items():
            if not len(xs):
                continue
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            value = float(ys[i])
            if np.isfinite(value) and (best is None or abs(value - y) < abs(best[2] - y)):
                best = (element, int(xs[i]), value)
        return best

    def hover_text(self, x: float, y: float, steps: np.ndarray) -> str:
        hit = self.nearest(x, y)
        if hit is None:
            return ""
        element, index, value = hit
        step = int(steps[index]) if index < len(steps) else index
        self.marker.setData([index], [value])
        self.marker.setVisible(True)
        return f"{format_element(self.name, element)} at step {step}: {value:.6g}"
