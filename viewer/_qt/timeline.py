"""TimelineWidget: loss curve with a cursor, slider, step readout, jump box, transport controls."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..components import ViewerModel
from . import style
from .plain import axis_text, plain_label

MAX_CURVE_POINTS = 20000


class StepSpinBox(QSpinBox):
    """A spin box of global step numbers whose arrows move to the neighbouring recorded step."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setKeyboardTracking(False)
        self.setPrefix("step ")

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self.model.dims.step_by(steps)


class LossStrip(pg.PlotWidget):
    """The per-step loss against global steps, with a draggable cursor at the current step;
    a click moves to the recorded step nearest to it."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setFixedHeight(110)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getPlotItem().setLabel("bottom", "step")
        self.getPlotItem().getAxis("left").enableAutoSIPrefix(False)  # no "loss (x0.001)"
        self.curve = self.plot([], [], pen=pg.mkPen((40, 40, 40), width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.cursor = pg.InfiniteLine(0, movable=True, pen=pg.mkPen(**style.CURRENT_PEN))
        self.cursor.sigPositionChanged.connect(self._dragged)
        self.addItem(self.cursor, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_curve(self, name: str | None, steps: np.ndarray, values: np.ndarray) -> None:
        """Draw `values` (NaN: not drawn) at global `steps`."""
        self.getPlotItem().setLabel("left", axis_text(name or ""))
        n = min(len(steps), len(values))
        x, values = steps[:n], values[:n]
        ok = np.isfinite(values)
        if name is None or not ok.any():
            self.curve.setData([], [])
        else:
            self.curve.setData(x[ok], values[ok])
        first, last = (int(x[0]), int(x[-1])) if n else (0, 1)
        self.setXRange(first, max(last, first + 1), padding=0.01)

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


class TimelineWidget(QWidget):
    """Observes the step and playback models and edits them; never talks to other widgets."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("timeline")
        self.loss = LossStrip(model)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("timeline-slider")
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.spin = StepSpinBox(model)
        self.readout = plain_label("no recording")
        self.readout.setMinimumWidth(260)
        self._build_buttons()
        self._build_layout()
        self._connect()
        self._on_range(model.dims.num_steps)

    # ------------------------------------------------------------ building
    def _button(self, icon: QStyle.StandardPixmap, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setIcon(self.style().standardIcon(icon))
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.NoFocus)
        b.clicked.connect(slot)
        return b

    def _build_buttons(self) -> None:
        d, p = self.model.dims, self.model.playback
        self.first_btn = self._button(QStyle.SP_MediaSkipBackward, "First step (Home)", d.first)
        self.prev_btn = self._button(QStyle.SP_MediaSeekBackward, "Previous step (←)",
                                     lambda: d.step_by(-1))
        self.play_btn = self._button(QStyle.SP_MediaPlay, "Play / pause (Space)", p.toggle)
        self.next_btn = self._button(QStyle.SP_MediaSeekForward, "Next step (→)",
                                     lambda: d.step_by(1))
        self.last_btn = self._button(QStyle.SP_MediaSkipForward, "Last step (End)", d.go_last)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(p.MIN_SPEED, p.MAX_SPEED)
        self.speed.setDecimals(1)
        self.speed.setSuffix(" steps/s")
        self.speed.setValue(p.speed)
        self.speed.setToolTip("Playback speed")
        self.loop = QCheckBox("Loop")
        self.follow = QCheckBox("Follow")
        self.follow.setToolTip("Keep to the newest step while the file is being written")

    def _build_layout(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 4)
        for w in (self.first_btn, self.prev_btn, self.play_btn, self.next_btn, self.last_btn):
            row.addWidget(w)
        row.addWidget(self.slider, 1)
        for w in (self.spin, self.readout, self.speed, self.loop, self.follow):
            row.addWidget(w)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.loss)
        outer.addLayout(row)

    def _connect(self) -> None:
        m = self.model
        self.slider.valueChanged.connect(m.dims.set_index)
        self.spin.valueChanged.connect(m.dims.go_to_step)
        self.speed.valueChanged.connect(m.playback.set_speed)
        self.loop.toggled.connect(m.playback.set_loop)
        self.follow.toggled.connect(m.playback.set_follow)
        m.dims.changed.connect(self._on_index)
        m.dims.range_changed.connect(self._on_range)
        m.playback.changed.connect(self._on_playback)
        m.recording.grown.connect(lambda _n: self._reload_curve())
        m.recording.opened.connect(lambda _p: self._reload_curve())

    # ------------------------------------------------------------ observing
    def _on_index(self, index: int) -> None:
        dims = self.model.dims
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.slider.setValue(index)
        if dims.num_steps:
            self.spin.setValue(int(dims.steps[index]))
        for w in (self.slider, self.spin):
            w.blockSignals(False)
        self.readout.setText(f"{dims.describe(index)} · {index + 1}/{dims.num_steps}")
        self.loss.set_cursor(dims.step_at(index))

    def _on_range(self, num_steps: int) -> None:
        dims = self.model.dims
        enabled = num_steps > 0
        for w in (self.slider, self.spin, self.first_btn, self.prev_btn, self.play_btn,
                  self.next_btn, self.last_btn):
            w.setEnabled(enabled)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(num_steps - 1, 0))
        self.slider.setPageStep(max(1, num_steps // 20))
        self.slider.blockSignals(False)
        self.spin.blockSignals(True)
        if enabled:
            self.spin.setRange(int(dims.steps[0]), int(dims.steps[-1]))
        else:
            self.spin.setRange(0, 0)
        self.spin.blockSignals(False)
        if enabled:
            self._on_index(dims.index)
        else:
            self.readout.setText("no recording")

    def _on_playback(self, name: str) -> None:
        p = self.model.playback
        icon = QStyle.SP_MediaPause if p.playing else QStyle.SP_MediaPlay
        self.play_btn.setIcon(self.style().standardIcon(icon))
        for widget, value in ((self.loop, p.loop), (self.follow, p.follow)):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        if abs(self.speed.value() - p.speed) > 1e-9:
            self.speed.blockSignals(True)
            self.speed.setValue(p.speed)
            self.speed.blockSignals(False)

    def _reload_curve(self) -> None:
        rec = self.model.recording
        steps = self.model.dims.steps
        if not rec.is_open:
            self.loss.set_curve(None, steps, np.zeros(0))
            return
        name = rec.loss_name()
        values = rec.scalar(name) if name else np.zeros(rec.num_steps)
        if len(values) > MAX_CURVE_POINTS:
            stride = int(np.ceil(len(values) / MAX_CURVE_POINTS))
            x = np.arange(0, len(values), stride)
            full = np.full(len(values), np.nan)
            full[x] = values[x]
            values = full
        self.loss.set_curve(name, steps, values)
        self.loss.set_cursor(self.model.dims.step_at(self.model.dims.index))
