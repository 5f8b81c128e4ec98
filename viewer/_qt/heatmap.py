"""HeatmapPlot: one step of a variable as an image, colour scale centred at zero, clickable."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QRectF

from ..components import ImageLayout, format_element
from . import style


class HeatmapPlot:
    """An ImageItem in a PlotItem with a colour bar, pick markers, hover and click mapping."""

    def __init__(self, plot: pg.PlotItem, name: str, shape: tuple[int, ...]) -> None:
        self.plot, self.name = plot, name
        self.layout = ImageLayout(shape)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(style.lut())
        self.image.setAutoDownsample(True)
        plot.addItem(self.image)
        plot.invertY(True)
        plot.setMenuEnabled(False)
        plot.getViewBox().setDefaultPadding(0.0)
        rows, cols = self.layout.image_shape
        plot.setRange(xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0)
        self._label_axes(shape)
        self.bar = pg.ColorBarItem(colorMap=style.colormap(), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=plot)
        self.markers = pg.ScatterPlotItem(size=9, symbol="s", pen=pg.mkPen("k", width=1.5),
                                          brush=None)
        plot.addItem(self.markers)
        self.values: np.ndarray | None = None
        self.limit = 1.0
        self._placed: tuple[int, ...] | None = None

    def _label_axes(self, shape: tuple[int, ...]) -> None:
        if self.layout.tiled:
            kh, kw, cin, cout = shape
            self.plot.setLabel("left", f"input channel ({kh}×{kw} filters)")
            self.plot.setLabel("bottom", "output channel (filter)")
            self.plot.getAxis("left").setTicks([_tile_ticks(cin, kh)])
            self.plot.getAxis("bottom").setTicks([_tile_ticks(cout, kw)])
        elif len(shape) <= 1:
            self.plot.setLabel("bottom", "index")
            self.plot.getAxis("left").setTicks([[]])
        else:
            lead = "×".join(f"axis {k}" for k in range(len(shape) - 1))
            self.plot.setLabel("left", lead)
            self.plot.setLabel("bottom", f"axis {len(shape) - 1}")

    def show(self, image: np.ndarray, limit: float) -> None:
        self.values = image
        self.limit = limit
        self.image.setImage(image, autoLevels=False, levels=(-limit, limit))
        if self._placed != image.shape:  # pixel (r, c) centred on (c, r): ticks name pixels
            rows, cols = image.shape
            self.image.setRect(QRectF(-0.5, -0.5, cols, rows))
            self._placed = image.shape
        if self.bar.levels() != (-limit, limit):
            self.bar.setLevels((-limit, limit))

    def set_limit(self, limit: float) -> None:
        self.limit = limit
        self.image.setLevels((-limit, limit))
        self.bar.setLevels((-limit, limit))

    def set_picks(self, elements: list[tuple[int, ...]]) -> None:
        spots = []
        for k, element in enumerate(elements):
            row, col = self.layout.pixel_of(element)
            spots.append({"pos": (col, row),
                          "pen": pg.mkPen(style.trace_color(k), width=2)})
        self.markers.setData(spots)

    def pixel_at(self, scene_pos) -> tuple[int, int] | None:
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        return int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))

    def element_at(self, scene_pos) -> tuple[int, ...] | None:
        pixel = self.pixel_at(scene_pos)
        return None if pixel is None else self.layout.element_at(*pixel)

    def hover_text(self, scene_pos) -> str:
        pixel = self.pixel_at(scene_pos)
        element = None if pixel is None else self.layout.element_at(*pixel)
        if element is None or self.values is None:
            return ""
        value = float(self.values[pixel])
        return f"{format_element(self.name, element)} = {value:.6g}"

    def connect_click(self, on_element: Callable[[tuple[int, ...]], None]) -> None:
        def clicked(event) -> None:
            if event.button() != 1:
                return
            element = self.element_at(event.scenePos())
            if element is not None:
                event.accept()
                on_element(element)

        self.plot.scene().sigMouseClicked.connect(clicked)


def _tile_ticks(count: int, size: int, most: int = 16) -> list[tuple[float, str]]:
    """Ticks at the centres of tiles of `size` pixels (plus a gap), numbered by channel."""
    every = max(1, -(-count // most))
    return [(c * (size + 1) + (size - 1) / 2, str(c)) for c in range(0, count, every)]
