"""PlaybackModel: playing, speed, loop, follow; advances a StepModel from timer ticks."""

from __future__ import annotations

from .dims import StepModel
from .events import Event


class PlaybackModel:
    """Whether the timeline plays, how fast (steps per second), looping, and following live data.

    `advance(dims, seconds)` is called by a timer; it moves `dims` by the whole steps due and
    keeps the fraction, so the speed holds whatever the timer rate.
    """

    MIN_SPEED = 0.5
    MAX_SPEED = 10000.0

    def __init__(self, speed: float = 10.0) -> None:
        self.playing = False
        self.speed = speed
        self.loop = False
        self.follow = False
        self.direction = 1
        self._carry = 0.0
        self.changed = Event()  # (attribute name)

    def _set(self, name: str, value: object) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.changed.emit(name)

    def set_playing(self, playing: bool) -> None:
        self._carry = 0.0
        self._set("playing", bool(playing))

    def toggle(self) -> None:
        self.set_playing(not self.playing)

    def set_speed(self, speed: float) -> None:
        self._set("speed", float(min(max(speed, self.MIN_SPEED), self.MAX_SPEED)))

    def set_loop(self, loop: bool) -> None:
        self._set("loop", bool(loop))

    def set_follow(self, follow: bool) -> None:
        self._set("follow", bool(follow))

    def set_direction(self, direction: int) -> None:
        self._set("direction", 1 if direction >= 0 else -1)

    def advance(self, dims: StepModel, seconds: float) -> None:
        """Move `dims` by speed × seconds steps; stop or wrap at the end."""
        if not self.playing or dims.num_steps < 2:
            return
        self._carry += self.speed * max(seconds, 0.0)
        whole = int(self._carry)
        if whole == 0:
            return
        self._carry -= whole
        target = dims.index + self.direction * whole
        if 0 <= target <= dims.last:
            dims.set_index(target)
        elif self.loop:
            dims.set_index(target % dims.num_steps)
        else:
            dims.set_index(target)
            self.set_playing(False)

    def on_grown(self, dims: StepModel) -> None:
        """New steps arrived: in follow mode, jump to the newest."""
        if self.follow:
            dims.go_last()
