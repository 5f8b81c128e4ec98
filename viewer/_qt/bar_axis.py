"""BarAxis: a colour bar's axis that keeps the drawings of the scales it has shown.

Scrubbing through a run shows the same few rounded scales over and over (the robust scale is
widened to two significant digits), and pyqtgraph lays out and draws an axis's labels afresh
whenever its ticks or range change: about a quarter of a millisecond, a quarter of the cost of
the heatmap's paint. This axis keeps each drawing (a QPicture) under what it depends on:
ticks, range, size, style and label.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt5.QtGui import QPicture
from PyQt5.QtWidgets import QGraphicsItem

MAX_PICTURES = 64  # drawings kept; more are dropped all at once (a few kB each)
DRAWN_FROM = ("labelText", "labelUnits", "labelStyle", "labelUnitPrefix", "scale", "logMode",
              "autoSIPrefixScale", "grid", "_pen", "_textPen", "_tickPen", "_tickSpacing",
              "_tickDensity")


class BarAxis(pg.AxisItem):
    """An AxisItem whose drawing for given ticks, range, size and style is made only once."""

    def __init__(self, *args, **kwargs) -> None:
        self._pictures: dict[tuple, QPicture] = {}
        self._ticks_key: tuple | None = None
        super().__init__(*args, **kwargs)

    def setTicks(self, ticks) -> None:  # noqa: N802 - pyqtgraph's name
        self._ticks_key = None if ticks is None else tuple(
            tuple((float(v), str(s)) for v, s in level) for level in ticks)
        super().setTicks(ticks)

    def _key(self) -> tuple:
        """Everything pyqtgraph's drawing of an unlinked axis depends on (pens and fonts by
        identity: pyqtgraph replaces them when they are set)."""
        size = self.size()
        state = tuple(repr(getattr(self, name, None)) for name in DRAWN_FROM)
        return (self._ticks_key, tuple(float(v) for v in self.range), size.width(),
                size.height(), repr(sorted(self.style.items())), *state)

    def paint(self, p, opt, widget) -> None:
        if self.picture is None:
            key = self._key()
            self.picture = self._pictures.get(key)
            if self.picture is None:
                super().paint(p, opt, widget)  # draws self.picture afresh, and plays it
                if len(self._pictures) >= MAX_PICTURES:
                    self._pictures.clear()
                self._pictures[key] = self.picture
                return
        self.picture.play(p)


def use_bar_axis(bar: pg.ColorBarItem) -> BarAxis:
    """Give a vertical ColorBarItem a BarAxis on its right, set up as its own was, and keep
    the drawings of its frame (the other three axes, which never change) as pixmaps."""
    axis = BarAxis("right")
    bar.setAxisItems({"right": axis})
    axis.setZValue(0.5)
    axis.setStyle(showValues=True)
    axis.unlinkFromView()
    axis.setRange(*bar.values)
    bar.axis = axis
    for side in ("left", "top", "bottom"):  # the bar's frame: repainted with each new scale
        bar.getAxis(side).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
    return axis
