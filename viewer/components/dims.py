"""StepModel: the current position on the timeline (like napari's dims slider state)."""

from __future__ import annotations

import numpy as np

from .events import Event


class StepModel:
    """The current timeline position (0 is the initial state) and the timeline it moves on.

    Positions are clamped to [0, num_steps - 1]. `steps`, `epochs` and `batches` hold the global
    step number, epoch and batch at every position.
    """

    def __init__(self) -> None:
        self.index = 0
        self.steps = np.zeros(0, np.int64)
        self.epochs = np.zeros(0, np.int64)
        self.batches = np.zeros(0, np.int64)
        self.changed = Event()  # (index)
        self.range_changed = Event()  # (num_steps)

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    @property
    def last(self) -> int:
        return max(self.num_steps - 1, 0)

    def set_timeline(self, steps: np.ndarray, epochs: np.ndarray, batches: np.ndarray) -> None:
        """Replace the timeline (a file was opened, or grew); keeps the index if it still fits."""
        self.steps = np.asarray(steps, np.int64)
        self.epochs = np.asarray(epochs, np.int64)
        self.batches = np.asarray(batches, np.int64)
        self.range_changed.emit(self.num_steps)
        if self.index > self.last:
            self.set_index(self.last)

    def set_index(self, index: int) -> None:
        index = int(min(max(int(index), 0), self.last))
        if index != self.index:
            self.index = index
            self.changed.emit(index)

    def step_by(self, delta: int) -> None:
        self.set_index(self.index + delta)

    def first(self) -> None:
        self.set_index(0)

    def go_last(self) -> None:
        self.set_index(self.last)

    def index_of_step(self, step: int) -> int:
        """Position of global step `step`, or of the last recorded step before it."""
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return min(max(i, 0), self.last)

    def index_nearest_step(self, step: float) -> int:
        """Position of the recorded step nearest to `step` (a point on a step axis)."""
        if self.num_steps < 2:
            return 0
        i = int(np.clip(np.searchsorted(self.steps, step), 1, self.last))
        return i - 1 if abs(step - self.steps[i - 1]) <= abs(self.steps[i] - step) else i

    def step_at(self, index: int) -> int:
        """The global step at position `index` (0 with no timeline)."""
        return int(self.steps[index]) if 0 <= index < self.num_steps else 0

    def go_to_step(self, step: int) -> None:
        self.set_index(self.index_of_step(step))

    def next_epoch(self) -> None:
        """Jump to the first position of the next epoch (or the end)."""
        if not self.num_steps:
            return
        later = np.nonzero(self.epochs[self.index:] > self.epochs[self.index])[0]
        self.set_index(self.index + int(later[0]) if len(later) else self.last)

    def previous_epoch(self) -> None:
        """Jump to the start of this epoch, or of the previous one when already at its start."""
        if not self.num_steps:
            return
        epoch = self.epochs[self.index]
        start = int(np.searchsorted(self.epochs, epoch, side="left"))
        if start == self.index and self.index > 0:
            start = int(np.searchsorted(self.epochs, self.epochs[self.index - 1], side="left"))
        self.set_index(start)

    def describe(self, index: int | None = None) -> str:
        """'step 120 · epoch 2 · batch 40' for a position."""
        i = self.index if index is None else index
        if not self.num_steps:
            return "no steps"
        return f"step {self.steps[i]} · epoch {self.epochs[i]} · batch {self.batches[i]}"
