"""ThinTickAxis: an axis with fixed ticks (e.g. filter numbers) that labels only as many of
them as fit its length, so narrow views show '0 4 8 12' rather than '0123456789101112'."""

from __future__ import annotations

import math

import pyqtgraph as pg

LABEL_GAP_PX = 8  # blank pixels kept between neighbouring labels


class ThinTickAxis(pg.AxisItem):
    """Keeps every tick given to `setTicks` and shows every k-th, k as small as lets the
    labels stand apart at the axis's current length and range (re-thinned on resize/zoom)."""

    _all: list | None = None  # class defaults: pyqtgraph's __init__ already resizes
    _shown_every: tuple[int, ...] = ()

    def setTicks(self, ticks) -> None:  # noqa: N802 - pyqtgraph's name
        self._all = ticks
        self._shown_every = ()
        self._thin()

    def all_ticks(self) -> list | None:
        return self._all

    def resizeEvent(self, ev=None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        self._thin()

    def linkedViewChanged(self, view, newRange=None) -> None:  # noqa: N802, N803
        super().linkedViewChanged(view, newRange)
        self._thin()

    def _thin(self) -> None:
        if self._all is None:
            super().setTicks(None)
            return
        every = tuple(self.every(level) for level in self._all)
        if every != self._shown_every:  # re-set only when the choice changes: no repaint
            self._shown_every = every
            super().setTicks([level[::k] for level, k in zip(self._all, every, strict=True)])

    def every(self, level: list[tuple[float, str]]) -> int:
        """Show every k-th tick of `level`: k makes neighbouring labels `LABEL_GAP_PX` apart."""
        if len(level) < 2:
            return 1
        lo, hi = self.range
        length = self.width() if self.orientation in ("top", "bottom") else self.height()
        if hi <= lo or length <= 0:
            return 1
        spacing = min(abs(b[0] - a[0]) for a, b in zip(level, level[1:], strict=False)) or 1e-9
        pixels = spacing * length / (hi - lo)
        return max(1, math.ceil((self.label_extent(level) + LABEL_GAP_PX) / pixels))

    def label_extent(self, level: list[tuple[float, str]]) -> float:
        """Pixels one label takes along the axis: its width, or its height on a side axis."""
        metrics = pg.QtGui.QFontMetrics(self.font() if self.style.get("tickFont") is None
                                        else self.style["tickFont"])
        if self.orientation in ("top", "bottom"):
            return max(metrics.horizontalAdvance(str(text)) for _, text in level)
        return metrics.height()

    def shown_ticks(self) -> list[tuple[float, str]]:
        """The ticks of the first level now labelled."""
        return list(self._tickLevels[0]) if self._tickLevels else []
