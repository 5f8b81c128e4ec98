"""HeatmapPlot: one step of a variable as an image with its colour bar (a scale centred at zero,
or a sequential one for a variable that keeps to one side of zero), clickable.

The image arrives colour-mapped (a QImage made in the reader threads, see colorize.py), so
showing a step costs the GUI thread one drawImage and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QRectF
from PyQt5.QtGui import QFont, QImage, QPainter
from PyQt5.QtWidgets import QGraphicsItem

from ..components import ColorScale, ImageLayout, format_element
from . import style
from .bar_axis import use_bar_axis
from .colorize import NON_FINITE
from .symlog_ticks import compact, set_symlog_ticks
from .ticks import ThinTickAxis

BAR_AXIS_PX = 64  # room for '-5.7e16' in BAR_FONT_PT
BAR_FONT_PT = 8.0
FEW_PIXELS = 12  # an axis this short gets a tick at every pixel (none between)


class FrameImage(pg.GraphicsObject):
    """A ready QImage drawn over pixel rectangle (-0.5, -0.5, cols, rows): pixel (r, c) is
    centred on (c, r), so axis ticks name pixels. A QImage of every stride[0]-th row and
    stride[1]-th column is drawn that many times taller and wider."""

    def __init__(self) -> None:
        super().__init__()
        self.qimage: QImage | None = None
        self._rect = QRectF(-0.5, -0.5, 1, 1)

    def set_qimage(self, qimage: QImage, stride: tuple[int, int] = (1, 1)) -> None:
        rect = QRectF(-0.5, -0.5, qimage.width() * stride[1], qimage.height() * stride[0])
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
            self.informViewBoundsChanged()
        self.qimage = qimage
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(self._rect)

    def paint(self, painter: QPainter, *args) -> None:
        if self.qimage is not None:
            painter.drawImage(self._rect, self.qimage)


class HeatmapPlot:
    """A FrameImage in a PlotItem with a colour bar, pick markers, hover and click mapping."""

    def __init__(self, plot: pg.PlotItem, name: str, layout: ImageLayout) -> None:
        self.plot, self.name = plot, name
        plot.setAxisItems({side: ThinTickAxis(side) for side in ("left", "bottom")})
        for side in ("left", "bottom"):  # they reach into the image, which repaints them
            plot.getAxis(side).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.image = FrameImage()
        plot.addItem(self.image)
        plot.invertY(True)
        plot.setMenuEnabled(False)
        plot.getViewBox().setDefaultPadding(0.0)
        self.set_layout(layout)
        self.bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=style.colormap(),
                                   interactive=False, width=12)
        use_bar_axis(self.bar)  # scrubbing draws each scale's labels once
        plot.layout.addItem(self.bar, 2, 5)  # after the right-hand axis, as pyqtgraph does
        font = QFont()
        font.setPointSizeF(BAR_FONT_PT)
        self.bar.axis.setStyle(tickFont=font)
        self.bar.axis.setWidth(BAR_AXIS_PX)  # labels that do not fit are not drawn at all
        self.bar.axis.enableAutoSIPrefix(False)  # our labels say the power of ten
        plot.layout.setColumnFixedWidth(4, 5)
        self.legend = pg.LabelItem(legend_html(), size="8pt", justify="right")
        plot.layout.addItem(self.legend, 4, 0, 1, 6)  # under the image and its colour bar
        self.markers = pg.ScatterPlotItem(size=9, symbol="s", pen=pg.mkPen("k", width=1.5),
                                          brush=None)
        plot.addItem(self.markers)
        self.markers.setVisible(False)
        self.values: np.ndarray | None = None
        self.scale = ColorScale.centred(1.0)

    def set_layout(self, layout: ImageLayout) -> None:
        """Lay the variable out anew (the frames shown next must follow it): axes and range."""
        self.layout = layout
        self.plot.vb.setAspectLocked(layout.fields)  # square input pixels: images look right
        rows, cols = layout.image_shape
        self.plot.setRange(xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTicks(None)
        self._label_axes(layout.shape)

    def _label_fields(self) -> None:
        """Receptive fields: rows of tiles named by their first unit, columns by the offset."""
        (h, w), (rows, cols) = self.layout.tile, self.layout.grid
        self.plot.setLabel("left", "unit")
        self.plot.setLabel("bottom", f"+ unit  ({h}×{w} input image each)")
        left = _tile_ticks(rows, h)
        self.plot.getAxis("left").setTicks([[(pos, str(int(k) * cols)) for pos, k in left]])
        bottom = _tile_ticks(cols, w)
        self.plot.getAxis("bottom").setTicks([[(pos, f"+{k}") for pos, k in bottom]])

    def _label_axes(self, shape: tuple[int, ...]) -> None:
        if self.layout.fields:
            self._label_fields()
        elif self.layout.tiled:
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
        rows, cols = self.layout.image_shape
        for side, count in (("left", rows), ("bottom", cols)):
            axis = self.plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # pixel numbers, never "(x0.001)"
            plain = not (self.layout.tiled or self.layout.fields)
            ticked = plain and (side == "bottom" or len(shape) > 1)
            if ticked and count <= FEW_PIXELS:
                axis.setTicks([[(k, str(k)) for k in range(count)]])

    def show(self, values: np.ndarray, qimage: QImage, scale: ColorScale,
             stride: tuple[int, int] = (1, 1)) -> None:
        """Show one step: its values (for hover) and their colours, mapped over `scale`."""
        self.values = values
        self.image.set_qimage(qimage, stride)
        if scale.diverging != self.scale.diverging:
            self.bar.setColorMap(style.colormap(scale.diverging))
        levels = bar_levels(scale)
        if scale != self.scale or self.bar.levels() != levels:
            if scale.linthresh > 0:
                set_symlog_ticks(self.bar.axis, scale.low, scale.high, scale.linthresh)
            else:  # labelled by us: pyqtgraph leaves ±5e16 unlabelled in a narrow bar
                self.bar.axis.setTicks([bar_ticks(*levels)])
            self.scale = scale
            self.bar.setLevels(levels)

    def set_legend(self, note: str) -> None:
        """The legend under the colour bar: the non-finite colours, then `note` (the scale)."""
        self.legend.setText(legend_html(note))

    @property
    def levels(self) -> tuple[float, float]:
        return self.scale.levels

    def set_picks(self, elements: list[tuple[int, ...]]) -> None:
        spots = []
        for k, element in enumerate(elements):
            row, col = self.layout.pixel_of(element)
            spots.append({"pos": (col, row),
                          "pen": pg.mkPen(style.trace_color(k), width=2)})
        self.markers.setData(spots)
        self.markers.setVisible(bool(spots))  # an empty scatter still costs a paint per frame

    def display_stride(self) -> tuple[int, int]:
        """How many image (rows, columns) one device pixel covers, at least 1 each."""
        vb, scene = self.plot.vb, self.plot.scene()
        if scene is None or not scene.views() or vb.width() < 1 or vb.height() < 1:
            return 1, 1
        ratio = scene.views()[0].devicePixelRatioF()
        width, height = vb.viewPixelSize()
        return max(1, int(height / ratio)), max(1, int(width / ratio))

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


def legend_html(note: str = "") -> str:
    """'■ NaN ■ +Inf ■ −Inf' in their colours, then `note`."""
    keys = " &nbsp;".join(f"<span style='color:rgb{rgb}'>■</span> {name}"
                          for name, rgb in NON_FINITE.items())
    return keys + (f" &nbsp;·&nbsp; {note}" if note else "")


def bar_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Five evenly spaced ticks over a linear colour bar, in at most three digits."""
    return [(float(v), compact(v)) for v in np.linspace(low, high, 5)]



def bar_levels(scale: ColorScale) -> tuple[float, float]:
    """The colour bar's two ends: the scale's, or their symmetric logs."""
    if scale.linthresh <= 0:
        return scale.levels
    lo, hi = scale.forward(np.array(scale.levels))
    return float(lo), float(hi)


def _tile_ticks(count: int, size: int, most: int = 16) -> list[tuple[float, str]]:
    """Ticks at the centres of tiles of `size` pixels (plus a gap), numbered by channel."""
    every = max(1, -(-count // most))
    return [(c * (size + 1) + (size - 1) / 2, str(c)) for c in range(0, count, every)]
