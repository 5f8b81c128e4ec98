"""ColorScale: which colour map a heatmap uses and the values at its two ends (Qt-free).

A variable whose values over the run take both signs is drawn with the diverging map, centred
at zero (±limit). One that stays on one side of zero (all ≥ 0, like a batch norm's moving
variance, or all ≤ 0) is drawn with a sequential map over its own [low, high]: centred at zero,
all its values would crowd into one half of the diverging map, nearly one flat colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColorScale:
    """Values `low` → the first colour of the map, `high` → the last (low < high).

    With `linthresh` > 0 the map is symmetric-logarithmic: values are spread by
    sign(x)·log10(1 + |x|/linthresh) (see `forward`), linear within ±linthresh.
    """

    low: float
    high: float
    diverging: bool = True
    linthresh: float = 0.0

    def forward(self, values):
        """Values as placed along the colour map: themselves, or their symmetric log."""
        if self.linthresh <= 0:
            return values
        return symlog(values, self.linthresh)

    def with_symlog(self, linthresh: float) -> ColorScale:
        return ColorScale(self.low, self.high, self.diverging, float(linthresh))

    @classmethod
    def centred(cls, limit: float) -> ColorScale:
        """The diverging scale over ±limit (1 if the limit is not a positive number)."""
        limit = float(limit) if limit > 0 and np.isfinite(limit) else 1.0
        return cls(-limit, limit, True)

    @classmethod
    def over(cls, lo: float, hi: float, diverging: bool) -> ColorScale:
        """A scale that covers [lo, hi]: ±max(|lo|, |hi|) if `diverging`, else [lo, hi]
        (widened to a unit around it when it is one value)."""
        if diverging:
            return cls.centred(symmetric_limit(lo, hi))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return cls.centred(1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, lo + 0.5
        return cls(float(lo), float(hi), False)

    @property
    def levels(self) -> tuple[float, float]:
        return self.low, self.high


def symlog(values, linthresh: float):
    """sign(x)·log10(1 + |x|/linthresh): linear near zero, logarithmic beyond ±linthresh."""
    x = np.asarray(values, dtype=np.float64)
    return np.sign(x) * np.log10(1.0 + np.abs(x) / linthresh)


def symlog_inverse(values, linthresh: float):
    y = np.asarray(values, dtype=np.float64)
    return np.sign(y) * (10.0 ** np.abs(y) - 1.0) * linthresh


def one_signed(lo: float, hi: float) -> bool:
    """True if values from `lo` to `hi` (the run's extremes) stay on one side of zero and are
    not all zero: a sequential colour map shows them better than one centred at zero."""
    return bool(np.isfinite(lo) and np.isfinite(hi) and hi > lo and (lo >= 0 or hi <= 0))


def symmetric_limit(lo: float, hi: float) -> float:
    """The half-width of a colour scale centred at zero that covers [lo, hi]."""
    limit = max(abs(lo), abs(hi))
    return limit if limit > 0 and np.isfinite(limit) else 1.0
