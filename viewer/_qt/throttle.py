"""Throttle: run a callback soon after it is asked for, but at most once per interval."""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt5.QtCore import QObject, QTimer

SLOW_MS = 100  # what does not show the current step's image follows it at most this often


class Throttle(QObject):
    """`poke()` as often as you like; the callback runs on the next pass of the event loop if
    it has not run for `interval_ms`, else once the interval is over. Pokes while one is
    pending merge into it, so a burst of changes costs one run per interval and the last
    change is always honoured."""

    def __init__(self, interval_ms: int, callback: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms, self.callback = interval_ms, callback
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._fire)
        self._last = -float("inf")

    def poke(self) -> None:
        if self.timer.isActive():
            return
        since_ms = 1000 * (time.perf_counter() - self._last)
        self.timer.start(int(max(0.0, self.interval_ms - since_ms)))

    @property
    def pending(self) -> bool:
        return self.timer.isActive()

    def stop(self) -> None:
        self.timer.stop()

    def _fire(self) -> None:
        self._last = time.perf_counter()
        self.callback()
