"""The timeline's curves: chosen scalars, epoch boundaries, and where the run blew up.

CurvesStrip draws what the CurvesModel and HealthModel hold, with a cursor at the current
step; CurveControls chooses curves, sets the explosion factor and jumps to the first NaN/Inf.
Both observe the models only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from ..components import Curve, ViewerModel
from . import style
from .plain import axis_text, plain_label, plain_tip

MAX_CURVE_POINTS = 20000
MAX_EPOCH_LINES = 400  # more epochs than this: the boundaries would only grey the strip
MAX_EXPLOSION_LINES = 200
LOG_SPAN = 1e3  # positive values spanning more than this factor get a log axis
NONFINITE_PEN = {"color": (120, 0, 0), "width": 3}
SCALAR_PEN = {"color": (230, 120, 0), "width": 1.5, "style": Qt.DashLine}
EXPLOSION_PEN = {"color": (170, 0, 170), "width": 1, "style": Qt.DotLine}
EPOCH_PEN = {"color": (170, 170, 170), "width": 1, "style": Qt.DashLine}


class CurvesStrip(pg.PlotWidget):
    """Chosen scalars against global steps, with a draggable cursor at the current step; a
    click moves to the recorded step nearest to it.

    Marks: grey dashes at epoch starts, a red line at the first NaN/Inf in the weights, an
    orange dashed line at the first non-finite scalar, purple dots at norm explosions.
    """

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setFixedHeight(150)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        item = self.getPlotItem()
        item.setLabel("bottom", "step")
        item.getAxis("left").enableAutoSIPrefix(False)  # no "loss (x0.001)"
        # Top right: loss falls from the top left, and a blown-up run ends early.
        self.legend = item.addLegend(offset=(-4, 2), labelTextSize="7pt",
                                     brush=pg.mkBrush(255, 255, 255, 210))
        self.curve = self._new_curve(0)  # the first chosen curve
        self.items: dict[str, pg.PlotDataItem] = {}
        self.labels: dict[str, str] = {}
        self.marks: list[pg.InfiniteLine] = []
        self.epoch_lines: list[pg.InfiniteLine] = []
        self.explosion_lines: list[pg.InfiniteLine] = []
        self.nonfinite_line: pg.InfiniteLine | None = None
        self.scalar_line: pg.InfiniteLine | None = None
        self.cursor = pg.InfiniteLine(0, movable=True, pen=pg.mkPen(**style.CURRENT_PEN))
        self.cursor.setZValue(10)
        self.cursor.sigPositionChanged.connect(self._dragged)
        self.addItem(self.cursor, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)
        model.curves.changed.connect(self.reload)
        model.health.changed.connect(self._draw_marks)

    def _new_curve(self, i: int, symbol: str | None = None) -> pg.PlotDataItem:
        color = (40, 40, 40) if i == 0 else style.trace_color(i - 1)
        curve = self.plot([], [], pen=pg.mkPen(color, width=1), symbol=symbol, symbolSize=5,
                          symbolBrush=color, symbolPen=None)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    # ------------------------------------------------------------ drawing
    def reload(self) -> None:
        """Draw the chosen curves and the marks afresh."""
        for item in list(self.items.values())[1:]:
            self.removeItem(item)
        self.legend.clear()
        self.items, self.labels = {}, {}
        curves = self.model.curves.curves()
        self.curve.setData([], [])
        for i, c in enumerate(curves):
            item = self.curve if i == 0 else self._new_curve(i, "o" if c.per_epoch else None)
            if i == 0:
                item.setSymbol("o" if c.per_epoch else None)
            self._set_data(item, c)
            self.items[c.key], self.labels[c.key] = item, c.label
            self.legend.addItem(item, axis_text(c.label.split(";")[0]))  # HTML: escaped
        self._set_axes(curves)
        self._draw_marks()
        dims = self.model.dims
        self.set_cursor(dims.step_at(dims.index) if dims.num_steps else 0)

    def data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The drawn points of curve `key` as values (not their logarithms on a log axis)."""
        item = self.items[key]
        return np.asarray(item.xData), np.asarray(item.yData)

    def _set_data(self, item: pg.PlotDataItem, c: Curve) -> None:
        x, y = c.x, c.y
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > MAX_CURVE_POINTS:
            keep = np.zeros_like(ok)
            keep[:: int(np.ceil(len(ok) / MAX_CURVE_POINTS))] = True
            ok &= keep
        item.setData(x[ok], y[ok])

    def _set_axes(self, curves: list[Curve]) -> None:
        item = self.getPlotItem()
        names = list(dict.fromkeys(c.label.split(" (")[0].split(" per batch")[0]
                                   for c in curves))
        values = np.concatenate([c.y for c in curves]) if curves else np.zeros(0)
        values = values[np.isfinite(values)]
        log = bool(values.size and values.min() > 0 and values.max() > LOG_SPAN * values.min())
        item.setLogMode(False, log)
        name = names[0] if len(names) == 1 else "value"
        item.setLabel("left", axis_text(name + (" (log)" if log else "")))
        steps = self.model.recording.timeline()[0] if self.model.recording.is_open else []
        first, last = (int(steps[0]), int(steps[-1])) if len(steps) else (0, 1)
        self.setXRange(first, max(last, first + 1), padding=0.01)

    def _line(self, step: float, pen: dict, tip: str) -> pg.InfiniteLine:
        line = pg.InfiniteLine(float(step), movable=False, pen=pg.mkPen(**pen))
        line.setToolTip(plain_tip(tip))
        self.addItem(line, ignoreBounds=True)
        self.marks.append(line)
        return line

    def _draw_marks(self) -> None:
        for line in self.marks:
            self.removeItem(line)
        self.marks, self.epoch_lines, self.explosion_lines = [], [], []
        self.nonfinite_line = self.scalar_line = None
        rec = self.model.recording
        if not rec.is_open or rec.num_steps == 0:
            return
        from ..components.curves import epoch_boundaries

        steps, epochs, _ = rec.timeline()
        starts = epoch_boundaries(steps, epochs)
        if len(starts) <= MAX_EPOCH_LINES:
            self.epoch_lines = [self._line(s, EPOCH_PEN, "an epoch starts") for s in starts]
        health = self.model.health
        factor = f"{health.factor:g}"
        self.explosion_lines = [
            self._line(steps[r], EXPLOSION_PEN, f"a norm grew more than {factor}x in one step")
            for r in health.explosions[:MAX_EXPLOSION_LINES]]
        if health.first_nonfinite_scalar is not None:
            self.scalar_line = self._line(steps[health.first_nonfinite_scalar], SCALAR_PEN,
                                          "first non-finite scalar (loss, ...)")
        if health.first_nonfinite_weights is not None:
            self.nonfinite_line = self._line(steps[health.first_nonfinite_weights],
                                             NONFINITE_PEN, "first NaN/Inf in the weights")

    # ------------------------------------------------------------ cursor
    def set_cursor(self, step: int) -> None:
        self.cursor.blockSignals(True)
        self.cursor.setValue(step)
        self.cursor.blockSignals(False)

    def _dragged(self) -> None:
        dims = self.model.dims
        dims.set_index(dims.index_nearest_step(self.cursor.value()))

    def _clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        pos = self.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.model.dims.set_index(self.model.dims.index_nearest_step(pos.x()))


class CurveControls(QWidget):
    """A menu of the curves to draw, the explosion factor, the first-NaN/Inf summary and jump."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.menu = QMenu(self)
        self.choose = QToolButton()
        self.choose.setText("Curves")
        self.choose.setToolTip("Choose the recorded scalars the timeline draws")
        self.choose.setPopupMode(QToolButton.InstantPopup)
        self.choose.setMenu(self.menu)
        self.factor = QDoubleSpinBox()
        self.factor.setRange(1.1, 1e6)
        self.factor.setDecimals(1)
        self.factor.setPrefix("explosion >×")
        self.factor.setValue(model.health.factor)
        self.factor.setToolTip("Mark steps at which a variable's norm grows more than this "
                               "many times in one step")
        self.factor.valueChanged.connect(model.health.set_factor)
        self.jump = QToolButton()
        self.jump.setText("First NaN/Inf (N)")
        self.jump.clicked.connect(model.jump_to_first_nonfinite)
        self.summary = plain_label()  # names scalars: file text
        # A long summary is cut at the window's edge (the tooltip has it whole) rather than
        # making the window wider than a 1280-pixel screen.
        self.summary.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        for w in (self.choose, self.summary):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.factor)
        row.addWidget(self.jump)
        model.curves.changed.connect(self._rebuild_menu)
        model.health.changed.connect(self._describe)
        self._rebuild_menu()
        self._describe()

    def _rebuild_menu(self) -> None:
        curves = self.model.curves
        self.menu.clear()
        self.actions_by_key = {}
        for key in curves.available():
            action = self.menu.addAction(curves.label(key))
            action.setCheckable(True)
            action.setChecked(key in curves.chosen)
            action.toggled.connect(lambda on, k=key: self.model.curves.toggle(k, on))
            self.actions_by_key[key] = action
        self.choose.setEnabled(bool(self.actions_by_key))

    def _describe(self) -> None:
        health, rec = self.model.health, self.model.recording
        self.jump.setEnabled(health.first_nonfinite is not None)
        if not rec.is_open:
            self.summary.setText("")
            return
        steps = rec.timeline()[0]
        parts = []
        if health.first_nonfinite_weights is not None:
            parts.append(f"weights NaN/Inf from step {steps[health.first_nonfinite_weights]}")
        for name, row in health.nonfinite_scalars.items():
            parts.append(f"{name} from step {steps[row]}")
        if health.explosions.size:
            parts.append(f"{health.explosions.size} explosions")
        self.summary.setText(" · ".join(parts) or "all finite")
        self.summary.setToolTip(plain_tip(self.summary.text()))
        self.summary.setStyleSheet("color:#b00000;" if parts else "color:#2a7a2a;")
