"""CurvesModel: which recorded scalars the timeline draws, and what each curve really is.

Keras 3 logs, after each batch, the running mean of the loss and metrics over the epoch so
far, not that batch's value: the curve drops at every epoch boundary. The labels say so, and
the per-batch values can be recovered from consecutive running means (see per_batch_values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import Event
from .recording import RecordingModel

PER_BATCH = ":per-batch"  # key suffix of a curve recovered from running means
EPOCH = "epoch:"  # key prefix of a per-epoch scalar
NOT_RUNNING_MEANS = ("learning_rate", "lr")  # logged as they are, not averaged


@dataclass(frozen=True)
class Curve:
    """One drawable curve: global steps `x`, values `y`, a label saying what it is."""

    key: str
    label: str
    x: np.ndarray
    y: np.ndarray
    per_epoch: bool = False


def per_batch_values(running: np.ndarray, batches: np.ndarray,
                     epochs: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-batch values from running means over the epoch: x_b = (b+1)·m_b − b·m_(b−1).

    Exact where the row before holds batch b−1 of the same epoch (or b is 0), with batches of
    equal size. Elsewhere (steps recorded every N batches, a gap) the value is NaN. Returns the
    values and how many logged rows could not be recovered.
    """
    m = np.asarray(running, np.float64)
    b = np.asarray(batches, np.int64)
    e = np.asarray(epochs, np.int64)
    out = np.full(m.shape, np.nan)
    first = b == 0
    out[first] = m[first]
    if m.size > 1:
        follows = (e[1:] == e[:-1]) & (b[1:] == b[:-1] + 1) & (b[1:] > 0)
        rows = np.flatnonzero(follows) + 1
        with np.errstate(invalid="ignore", over="ignore"):  # NaN and huge values stay so
            out[rows] = (b[rows] + 1) * m[rows] - b[rows] * m[rows - 1]
    logged = np.isfinite(m) & (b >= 0)
    missing = int(np.count_nonzero(logged & ~np.isfinite(out)))
    return out, missing


def epoch_end_steps(steps: np.ndarray, epochs: np.ndarray,
                    numbers: np.ndarray) -> np.ndarray:
    """The last recorded global step of each epoch in `numbers` (NaN for one off the timeline).

    Epoch numbers never decrease along the timeline (SPEC.md), so one search finds them all.
    """
    epochs, numbers = np.asarray(epochs), np.asarray(numbers)
    ends = np.full(len(numbers), np.nan)
    if len(epochs) == 0 or len(numbers) == 0:
        return ends
    last = np.searchsorted(epochs, numbers, side="right") - 1
    found = (last >= 0) & (epochs[np.maximum(last, 0)] == numbers)
    ends[found] = np.asarray(steps)[last[found]]
    return ends


def epoch_boundaries(steps: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Global steps at which a new epoch starts (the first row of each epoch after the first)."""
    if len(epochs) < 2:
        return np.zeros(0, np.int64)
    return np.asarray(steps)[np.flatnonzero(np.diff(epochs) != 0) + 1]


class CurvesModel:
    """The curves the timeline can draw (`available`), and those chosen (`chosen`).

    Keys: a per-step scalar's name (`loss`), `loss:per-batch` for its recovered per-batch
    values, and `epoch:val_loss` for a per-epoch scalar. `changed()` fires when the choice or
    the recording changes.

    Args:
        recording: the RecordingModel to read scalars from.

    Example:
        >>> from weightreel.viewer.components import RecordingModel
        >>> curves = CurvesModel(RecordingModel())
        >>> curves.available()
        []
    """

    def __init__(self, recording: RecordingModel) -> None:
        self.recording = recording
        self.chosen: list[str] = []
        self.changed = Event()
        recording.opened.connect(self._on_opened)
        recording.grown.connect(lambda _n: self.changed.emit())
        recording.closed.connect(self._on_opened)

    # ------------------------------------------------------------ what there is
    def _keras(self) -> bool:
        rec = self.recording.rec
        return rec is not None and str(rec.metadata.get("framework", "")).lower() == "keras"

    def is_running_mean(self, name: str) -> bool:
        """Whether per-step scalar `name` is a Keras 3 batch log (a running mean)."""
        return self._keras() and name not in NOT_RUNNING_MEANS

    def available(self) -> list[str]:
        rec = self.recording.rec
        if rec is None:
            return []
        keys = []
        for name in rec.scalar_names:
            keys.append(name)
            if self.is_running_mean(name):
                keys.append(name + PER_BATCH)
        keys += [EPOCH + n for n in rec.epoch_scalar_names]
        return keys

    def label(self, key: str) -> str:
        """What the curve is, in words."""
        if key.startswith(EPOCH):
            return f"{key[len(EPOCH):]} (per epoch, at the epoch's last step)"
        if key.endswith(PER_BATCH):
            name = key[: -len(PER_BATCH)]
            return f"{name} per batch (recovered from the running means)"
        if self.is_running_mean(key):
            return f"{key} (running mean over the epoch)"
        return f"{key} (per step)"

    # ------------------------------------------------------------ choosing
    def default_choice(self) -> list[str]:
        """loss and val_loss when recorded, else the first scalar."""
        keys = self.available()
        picked = [k for k in ("loss", EPOCH + "val_loss") if k in keys]
        return picked or keys[:1]

    def set_chosen(self, keys: list[str]) -> None:
        keys = [k for k in keys if k in self.available()]
        if keys != self.chosen:
            self.chosen = keys
            self.changed.emit()

    def toggle(self, key: str, on: bool) -> None:
        keys = [k for k in self.chosen if k != key]
        if on:
            keys.append(key)
        self.set_chosen(keys)

    def _on_opened(self, *_args) -> None:
        self.chosen = self.default_choice() if self.recording.is_open else []
        self.changed.emit()

    # ------------------------------------------------------------ data
    def curve(self, key: str) -> Curve:
        rec = self.recording.rec
        steps, epochs, batches = self.recording.timeline()
        steps = np.asarray(steps, np.float64)
        if key.startswith(EPOCH):
            with self.recording.lock:
                numbers = rec.epoch_numbers
                values = np.asarray(rec.epoch_scalar(key[len(EPOCH):]), np.float64)
            ends = epoch_end_steps(steps, epochs, numbers)
            return Curve(key, self.label(key), ends, values, True)
        if key.endswith(PER_BATCH):
            values, missing = per_batch_values(
                self.recording.scalar(key[: -len(PER_BATCH)]), batches, epochs)
            return Curve(key, self.label(key) + self.inexact_note(missing), steps, values)
        return Curve(key, self.label(key), steps, self.recording.scalar(key))

    @staticmethod
    def inexact_note(missing: int) -> str:
        if missing:
            return f"; not recoverable at {missing} steps (batches not recorded one after another)"
        return "; exact when all batches have the same size (an epoch's last may be smaller)"

    def curves(self) -> list[Curve]:
        if not self.recording.is_open:
            return []
        return [self.curve(k) for k in self.chosen]
