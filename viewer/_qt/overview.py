"""OverviewWidget: the layer overview, one row per variable and one column per step, coloured
by the relative update log10(‖W_t − W_{t−1}‖ / ‖W_t‖). Clicking a cell shows that variable at
that step; the current step is marked.

Update norms come from the file's `update_norm` summary column when it has one; otherwise
they are computed once, off the GUI thread, with a progress bar (growth of a live file adds
only the new rows; a result for a file since closed or replaced is dropped).
"""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..components import ColorScale, ViewerModel
from ..components.layout import GAP_VALUE
from ..components.overview import (
    colour_limits,
    compute_update_norms,
    relative_updates,
    update_column,
)
from . import style
from .colorize import colorize
from .heatmap import FrameImage
from .over_time import coarser
from .throttle import SLOW_MS, Throttle

TITLE = "relative update per step: log10 ‖Wₜ − Wₜ₋₁‖ / ‖Wₜ‖ — click a cell to open it"
LEGEND = ("<span style='color:rgb(255,0,255)'>■</span> NaN/Inf weights &nbsp; "
          "<span style='color:rgb(0,230,255)'>■</span> no change (frozen)")
MOST_NAMES = 40  # row labels shown at most
MOST_STEP_TICKS = 10
ROW_PX = 18  # the overview's preferred height per variable


class _Relay(QObject):
    progress = pyqtSignal(int, int)  # generation, rows done
    done = pyqtSignal(int, object, int)  # generation, {name: norms}, first row


class OverviewWidget(QWidget):
    """Observes the model (file, growth, step); edits the selection and step when clicked."""

    shown = pyqtSignal()  # the overview is drawn with every variable's norms

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.norms: dict[str, np.ndarray] = {}  # update norms per variable, rows 0..rows-1
        self.rows = 0
        self.values: np.ndarray | None = None  # variables × steps, as drawn
        self.names: list[str] = []
        self.computed = False  # whether norms were computed (no recorded column)
        self._generation = 0
        self._running: threading.Event | None = None  # set: cancel the running computation
        self._relay = _Relay()
        self._cursor = Throttle(SLOW_MS, self._move_cursor, self)  # not a repaint per frame
        self._relay.progress.connect(self._on_progress)
        self._relay.done.connect(self._on_done)
        self._build()
        model.recording.opened.connect(lambda _p: self._restart())
        model.recording.reopened.connect(lambda _p: self._restart())
        model.recording.closed.connect(self._restart)
        model.recording.grown.connect(lambda _n: self.refresh())
        model.dims.changed.connect(self._on_index)

    def _build(self) -> None:
        self.progress = QProgressBar()
        self.progress.setFormat("computing update norms (this file has no update_norm "
                                "column): %p%")
        self.progress.hide()
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot()
        self.plot.setTitle(TITLE, size="9pt")
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=True)  # zoom into a long run or a deep model
        self.plot.setLabel("bottom", "step")
        self.image = FrameImage()
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(-6, 0), colorMap=style.colormap(False),
                                   interactive=False, width=12, label="log10 relative update")
        self.plot.layout.addItem(self.bar, 2, 5)
        self.cursor = pg.InfiniteLine(0, pen=pg.mkPen(**style.CURRENT_PEN))
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.legend = QLabel(LEGEND)
        self.legend.setTextFormat(Qt.RichText)
        self.hover = QLabel(" ")
        self.hover.setTextFormat(Qt.PlainText)
        self.hover.setMinimumWidth(1)
        foot = QHBoxLayout()
        foot.addWidget(self.legend)
        foot.addWidget(self.hover, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.progress)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(foot)
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.graphics.scene().sigMouseMoved.connect(self._on_move)

    def preferred_height(self) -> int:
        """Pixels that show every variable's row readably, within reason."""
        rows = len(self.model.recording.rec.variable_names) if self.model.recording.is_open else 4
        return int(min(ROW_PX * rows + 120, 420))

    # ------------------------------------------------------------ norms
    def _restart(self) -> None:
        """A file was opened, replaced or closed: drop everything, start afresh."""
        if self._running is not None:
            self._running.set()
            self._running = None
        self._generation += 1
        self.norms, self.rows, self.values, self.names = {}, 0, None, []
        self.progress.hide()
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Bring the norms up to the recording's rows (recorded column, or computed)."""
        rec = self.model.recording
        if not rec.is_open or self._running is not None or not self.isVisible():
            return
        n = rec.num_steps
        if self.rows >= n and self.values is not None:
            return
        names = rec.rec.variable_names
        recorded = {name: update_column(rec.rec, name) for name in names}
        missing = [name for name, j in recorded.items() if j is None]
        for name, j in recorded.items():
            if j is not None:
                self.norms[name] = rec.summary(name)[:n, j]
        self.computed = bool(missing)
        if not missing or self.rows >= n:
            self.rows = n
            self._draw()
            return
        self._compute(missing, self.rows, n)

    def _compute(self, names: list[str], start: int, stop: int) -> None:
        rec, generation = self.model.recording, self._generation
        cancel = threading.Event()
        self._running = cancel
        self.progress.setRange(0, max(1, (stop - start) * len(names)))
        self.progress.setValue(0)
        self.progress.show()
        infos = rec.rec.variables

        def work() -> None:
            found, done = {}, 0
            try:
                for name in names:
                    info = infos[name]
                    row_bytes = info.size * np.dtype(info.stored_dtype).itemsize

                    def step(k: int) -> None:
                        nonlocal done
                        done += k
                        self._relay.progress.emit(generation, done)

                    found[name] = compute_update_norms(rec.read_range, name, start, stop,
                                                       row_bytes, step, cancel.is_set)
                    if found[name] is None:
                        return
            except Exception:  # noqa: BLE001 - the file changed under us: refresh retries
                found = None
            self._relay.done.emit(generation, found, start)

        threading.Thread(target=work, name="weightreel-update-norms", daemon=True).start()

    def _on_progress(self, generation: int, done: int) -> None:
        if generation == self._generation:
            self.progress.setValue(done)

    def _on_done(self, generation: int, found: dict | None, start: int) -> None:
        if generation != self._generation:
            return  # for a file since closed or replaced
        self._running = None
        self.progress.hide()
        if not found:
            return
        for name, tail in found.items():
            have = self.norms.get(name, np.zeros(0))[:start]
            self.norms[name] = np.concatenate([have, tail])
        self.rows = start + len(next(iter(found.values())))
        self._draw()
        self.refresh()  # the file may have grown meanwhile

    # ------------------------------------------------------------ drawing
    def _draw(self) -> None:
        rec = self.model.recording
        self.names = [n for n in rec.rec.variable_names if n in self.norms]
        n = min([self.rows, *(len(self.norms[k]) for k in self.names)])
        rows = [relative_updates(self.norms[k][:n], rec.summary_column(k, "norm")[:n])
                for k in self.names]
        self.values = np.array(rows).reshape(len(rows), n)
        lo, hi = colour_limits(self.values)
        self.scale = ColorScale(lo, hi, diverging=False)
        drawn = self.values.astype(np.float32)
        drawn[:, :1] = GAP_VALUE  # row 0 has no step before it: blank, not "NaN"
        self.image.set_qimage(colorize(drawn, self.scale))
        self.bar.setLevels((lo, hi))
        self.plot.setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, len(rows) - 0.5), padding=0)
        self._label_axes(n)
        self._on_index(self.model.dims.index)
        self.shown.emit()

    def _label_axes(self, n: int) -> None:
        every = max(1, -(-len(self.names) // MOST_NAMES))
        self.plot.getAxis("left").setTicks(
            [[(k, _short(name)) for k, name in enumerate(self.names) if k % every == 0]])
        steps = self.model.dims.steps[:n]
        if not len(steps):
            return
        spacing = 1.0
        while (steps[-1] - steps[0]) / spacing > MOST_STEP_TICKS:
            spacing = coarser(spacing)
        marks = np.arange(np.ceil(steps[0] / spacing) * spacing, steps[-1] + 1, spacing)
        spots = np.searchsorted(steps, marks)  # columns are positions: label their steps
        self.plot.getAxis("bottom").setTicks(
            [[(int(i), str(int(steps[i]))) for i in np.unique(spots) if i < len(steps)]])

    def _on_index(self, _index: int) -> None:
        self._cursor.poke()

    def _move_cursor(self) -> None:
        self.cursor.setValue(self.model.dims.index)

    # ------------------------------------------------------------ mouse
    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(variable row, position) under a scene point, or None."""
        if self.values is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
        rows, cols = self.values.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def open_cell(self, row: int, col: int) -> None:
        """Show variable `row` at position `col` (what a click on the cell does)."""
        self.model.selection.set_names([self.names[row]])
        self.model.dims.set_index(col)

    def _on_click(self, event) -> None:
        cell = self.cell_at(event.scenePos()) if event.button() == 1 else None
        if cell is not None:
            event.accept()
            self.open_cell(*cell)

    def _on_move(self, scene_pos) -> None:
        cell = self.cell_at(scene_pos)
        if cell is None:
            self.hover.setText(" ")
            return
        row, col = cell
        value = self.values[row, col]
        text = ("frozen (no change)" if value == -np.inf else f"10^{value:.2f}"
                if np.isfinite(value) else "— (NaN or Inf weights, or the first row)")
        self.hover.setText(f"{self.names[row]} at {self.model.dims.describe(col)}: "
                           f"relative update {text}")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()


def _short(name: str) -> str:
    """A variable's name without the model's name in front, when it has one."""
    parts = name.split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else name
