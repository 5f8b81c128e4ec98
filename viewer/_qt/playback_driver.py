"""PlaybackDriver: a timer that advances the step model while the playback model plays."""

from __future__ import annotations

import time

from PyQt5.QtCore import QObject, QTimer

from ..components import PlaybackModel, StepModel

TICK_MS = 15


class PlaybackDriver(QObject):
    def __init__(self, playback: PlaybackModel, dims: StepModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.playback, self.dims = playback, dims
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0
        playback.changed.connect(self._on_changed)

    def _on_changed(self, name: str) -> None:
        if name != "playing":
            return
        if self.playback.playing:
            if self.dims.index >= self.dims.last and self.playback.direction > 0:
                self.dims.first()  # play from the start again, as media players do
            self._last = time.perf_counter()
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        self.playback.advance(self.dims, elapsed)
