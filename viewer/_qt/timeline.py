"""TimelineWidget: curves with a cursor, slider, step readout, jump box, transport controls."""

from __future__ import annotations

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
from .curves_strip import CurveControls, CurvesStrip
from .plain import plain_label
from .throttle import SLOW_MS, Throttle


class StepSpinBox(QSpinBox):
    """A spin box of global step numbers whose arrows move to the neighbouring recorded step."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setKeyboardTracking(False)
        self.setPrefix("step ")

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self.model.dims.step_by(steps)


class TimelineWidget(QWidget):
    """Observes the step and playback models and edits them; never talks to other widgets."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("timeline")
        self.loss = CurvesStrip(model)
        self.curve_controls = CurveControls(model)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("timeline-slider")
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.spin = StepSpinBox(model)
        self.readout = plain_label("no recording")
        self.readout.setMinimumWidth(260)
        # The strip's cursor follows at most every SLOW_MS: repainting the strip on every
        # frame of a scrub costs about as much as drawing the frame's image.
        self.loss_cursor = Throttle(SLOW_MS, self._move_loss_cursor, self)
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
        outer.addWidget(self.curve_controls)
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
        self.loss_cursor.poke()

    def _move_loss_cursor(self) -> None:
        dims = self.model.dims
        self.loss.set_cursor(dims.step_at(dims.index))

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
