"""CompareWindow: run A | run B | A − B for one variable at a synced step, and both runs'
curves overlaid (loss, and the variable's norm). Variables in one file only are listed."""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..components.compare import Comparison
from ..components.layout import layout_for
from . import style

PANELS = ("A", "B", "A − B")
POLL_MS = 1000
PAIR_ROLE = Qt.UserRole
RUN_PENS = {"a": (31, 119, 180), "b": (214, 39, 40)}


class CompareWindow(QMainWindow):
    """Shows `comparison`; the slider runs over A's steps, B follows by global step."""

    def __init__(self, comparison: Comparison, names: tuple[str, str]) -> None:
        super().__init__()
        self.comparison, self.names = comparison, names
        self.setWindowTitle(f"{names[0]} vs {names[1]} — weightreel")
        self.pair: tuple[str, str] | None = None
        self.index = 0
        self._build()
        self._fill_list()
        pairs = comparison.matching.pairs
        if pairs:
            self.select(pairs[0])
        self.poll = QTimer(self)  # live files: pick up new steps of either run
        self.poll.timeout.connect(self.refresh)
        self.poll.start(POLL_MS)

    def refresh(self) -> None:
        """Take in steps either run committed since (B's may now match more of A's)."""
        before = (len(self.comparison.steps_a), len(self.comparison.steps_b))
        self.comparison.refresh()
        if (len(self.comparison.steps_a), len(self.comparison.steps_b)) == before:
            return
        self.slider.setRange(0, max(0, len(self.comparison.steps_a) - 1))
        self.loss_plot.clear()
        self.loss_plot.addItem(self.cursors[0], ignoreBounds=True)
        self._draw_loss()
        if self.pair is not None:
            self.select(self.pair)

    def _build(self) -> None:
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._picked)
        self.images = pg.GraphicsLayoutWidget()
        self.plots, self.items = [], []
        for col, title in enumerate(PANELS):
            plot = self.images.addPlot(row=0, col=col, title=title)
            plot.invertY(True)
            plot.setAspectLocked(False)
            item = pg.ImageItem(axisOrder="row-major", lut=style.lut())
            plot.addItem(item)
            self.plots.append(plot)
            self.items.append(item)
        self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=style.colormap(), interactive=False,
                                   width=12)
        self.images.addItem(self.bar, row=0, col=len(PANELS))
        self.curves = pg.GraphicsLayoutWidget()
        self.loss_plot = self.curves.addPlot(row=0, col=0, title="loss")
        self.norm_plot = self.curves.addPlot(row=0, col=1, title="norm of the variable")
        for plot in (self.loss_plot, self.norm_plot):
            plot.addLegend(offset=(-10, 10))
            plot.setLabel("bottom", "step")
            plot.setLogMode(x=False, y=True)  # a diverging run spans many decades
        self.cursors = [pg.InfiniteLine(0, pen=pg.mkPen(**style.CURRENT_PEN))
                        for _ in range(2)]
        self.loss_plot.addItem(self.cursors[0], ignoreBounds=True)
        self.norm_plot.addItem(self.cursors[1], ignoreBounds=True)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, max(0, len(self.comparison.steps_a) - 1))
        self.slider.valueChanged.connect(self.set_index)
        self.readout = QLabel()
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.images)
        right.addWidget(self.curves)
        right.setSizes([500, 300])
        bottom = QHBoxLayout()
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.readout)
        central = QWidget()
        column = QVBoxLayout(central)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.list)
        split.addWidget(right)
        split.setSizes([260, 1200])
        column.addWidget(split, 1)
        column.addLayout(bottom)
        self.setCentralWidget(central)
        self._draw_loss()

    def _fill_list(self) -> None:
        m = self.comparison.matching
        for a, b in m.pairs:
            item = QListWidgetItem(a if a == b else a.split("/", 1)[-1])
            item.setToolTip(f"A: {a}\nB: {b}")
            item.setData(PAIR_ROLE, (a, b))
            self.list.addItem(item)
        for label, names in ((f"only in A ({self.names[0]})", m.only_a),
                             (f"only in B ({self.names[1]})", m.only_b)):
            for name in names:
                item = QListWidgetItem(f"{name} — {label}")
                item.setFlags(Qt.NoItemFlags)
                self.list.addItem(item)

    def only_in_one(self) -> list[str]:
        """The list's lines for variables in one file only (tests and screenshots read it)."""
        return [self.list.item(k).text() for k in range(self.list.count())
                if self.list.item(k).data(PAIR_ROLE) is None]

    def _picked(self, item, _previous=None) -> None:
        pair = None if item is None else item.data(PAIR_ROLE)
        if pair is not None:
            self.select(tuple(pair))

    def select(self, pair: tuple[str, str]) -> None:
        self.pair = pair
        for k in range(self.list.count()):
            if self.list.item(k).data(PAIR_ROLE) == pair:
                self.list.blockSignals(True)
                self.list.setCurrentRow(k)
                self.list.blockSignals(False)
        self._draw_norms()
        self.set_index(self.index)

    def set_index(self, index: int) -> None:
        """Show A's position `index` and B's step with the same global step number."""
        self.index = int(index)
        if self.slider.value() != self.index:
            self.slider.setValue(self.index)
            return
        c, step = self.comparison, int(self.comparison.steps_a[self.index])
        for cursor in self.cursors:
            cursor.setValue(step)
        if self.pair is None:
            return
        a, b = c.read(self.pair, self.index)
        layout = layout_for(a.shape, dense_as_images=False)
        limit = c.limit(self.pair, self.index)
        images = [layout.to_image(a)]
        images += [layout.to_image(b), layout.to_image(a - b)] if b is not None else [
            np.full(layout.image_shape, np.nan, np.float32)] * 2
        for item, image in zip(self.items, images, strict=True):
            item.setImage(image, autoLevels=False, levels=(-limit, limit))
        self.bar.setLevels((-limit, limit))
        missing = "" if b is not None else " — missing in B"
        self.plots[1].setTitle("B" + missing)
        self.plots[2].setTitle("A − B" + missing)
        self.readout.setText(f"step {step}{missing}")

    def _draw_loss(self) -> None:
        for which, label in (("a", "A"), ("b", "B")):
            data = self.comparison.loss(which)
            if data is not None:
                steps, values = data
                ok = np.isfinite(values) & (values > 0)
                self.loss_plot.plot(steps[ok], values[ok], pen=pg.mkPen(RUN_PENS[which]),
                                    name=f"{label}: {os.path.basename(self._path(which))}")

    def _draw_norms(self) -> None:
        for item in list(self.norm_plot.listDataItems()):
            self.norm_plot.removeItem(item)
        for which, name in (("a", self.pair[0]), ("b", self.pair[1])):
            steps, norm = self.comparison.column(which, name, "norm")
            ok = np.isfinite(norm) & (norm > 0)
            self.norm_plot.plot(steps[ok], norm[ok], pen=pg.mkPen(RUN_PENS[which]),
                                name=which.upper())

    def _path(self, which: str) -> str:
        return self.names[0] if which == "a" else self.names[1]

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.poll.stop()
        self.comparison.close()
        super().closeEvent(event)
