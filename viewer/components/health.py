"""HealthModel: where the open run blew up, for the timeline's markers and the jump action.

Reads only the summaries and scalars (through formats.health), so it is cheap on any file.
"""

from __future__ import annotations

import numpy as np

from weightreel.formats.health import (
    DEFAULT_EXPLOSION_FACTOR,
    explosions,
    finite_norms,
    first_nonfinite_row,
    first_nonfinite_scalar,
)

from .events import Event
from .recording import RecordingModel


class HealthModel:
    """First NaN/Inf of the weights and of the scalars, and norm explosions, as timeline rows.

    An explosion is a row at which some variable's norm grew more than `factor` times since
    the row before (default 10). `changed()` fires when the recording or the factor changes.

    Args:
        recording: the RecordingModel to read summaries and scalars from.

    Example:
        >>> from weightreel.viewer.components import RecordingModel
        >>> health = HealthModel(RecordingModel())
        >>> health.first_nonfinite is None
        True
    """

    def __init__(self, recording: RecordingModel,
                 factor: float = DEFAULT_EXPLOSION_FACTOR) -> None:
        self.recording = recording
        self.factor = float(factor)
        self.first_nonfinite_weights: int | None = None
        self.first_nonfinite_scalar: int | None = None
        self.nonfinite_scalars: dict[str, int] = {}
        self.explosions = np.zeros(0, np.int64)  # rows
        self.changed = Event()
        recording.opened.connect(lambda _p: self.update())
        recording.grown.connect(lambda _n: self.update())
        recording.closed.connect(self.update)

    @property
    def first_nonfinite(self) -> int | None:
        """The row to jump to: the first NaN/Inf in the weights, else in the scalars."""
        if self.first_nonfinite_weights is not None:
            return self.first_nonfinite_weights
        return self.first_nonfinite_scalar

    def set_factor(self, factor: float) -> None:
        if factor <= 1:
            raise ValueError(f"the explosion factor must be above 1, not {factor}")
        if float(factor) != self.factor:
            self.factor = float(factor)
            self.update()

    def update(self) -> None:
        self.first_nonfinite_weights = self.first_nonfinite_scalar = None
        self.nonfinite_scalars = {}
        self.explosions = np.zeros(0, np.int64)
        rec = self.recording
        if rec.is_open and rec.num_steps:
            self._scan_variables(rec)
            self._scan_scalars(rec)
        self.changed.emit()

    def _scan_variables(self, rec: RecordingModel) -> None:
        firsts, rows = [], []
        for name in rec.rec.variable_names:
            nan, inf = rec.summary_column(name, "nan_count"), rec.summary_column(name, "inf_count")
            first = first_nonfinite_row(nan, inf)
            if first is not None:
                firsts.append(first)
            rows.append(explosions(finite_norms(rec.summary_column(name, "norm"), nan, inf),
                                   self.factor))
        self.first_nonfinite_weights = min(firsts) if firsts else None
        self.explosions = np.unique(np.concatenate(rows)) if rows else np.zeros(0, np.int64)

    def _scan_scalars(self, rec: RecordingModel) -> None:
        for name in rec.rec.scalar_names:
            first = first_nonfinite_scalar(rec.scalar(name))
            if first is not None:
                self.nonfinite_scalars[name] = first
        if self.nonfinite_scalars:
            self.first_nonfinite_scalar = min(self.nonfinite_scalars.values())
