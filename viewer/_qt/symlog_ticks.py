"""Axis ticks for values drawn on a symmetric-log scale: placed at sign(x)·log10(1 + |x|/c),
labelled with the values x themselves (0, ±c, ±10c, ±100c... in round numbers)."""

from __future__ import annotations

import math

import numpy as np

from ..components.colors import symlog

MOST_TICKS = 9


def compact(value: float) -> str:
    """'-12.3', '0.05', '-5.7e16': short enough for a colour bar's labels."""
    text = f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 or value == 0 else f"{value:.2g}"
    return text.replace("e+", "e").replace("e0", "e").replace("e-0", "e-")


def symlog_ticks(low: float, high: float, linthresh: float,
                 most: int = MOST_TICKS) -> list[tuple[float, str]]:
    """(position, label) ticks between the values `low` and `high` on a symlog axis: zero and
    powers of ten of both signs, at most about `most` of them."""
    if not (linthresh > 0 and np.isfinite([low, high]).all() and high > low):
        return []
    top = max(abs(low), abs(high))
    first = math.floor(math.log10(linthresh))
    powers = [10.0 ** k for k in range(first, math.ceil(math.log10(top)) + 1)]
    every = max(1, -(-len(powers) // max(1, most // 2)))
    values = [0.0] + [s * p for p in powers[::-1][::every] for s in (1, -1)]
    ticks = [(float(symlog(v, linthresh)), compact(v) if v else "0") for v in values
             if low <= v <= high]
    return sorted(ticks)


def set_symlog_ticks(axis, low: float, high: float, linthresh: float,
                     most: int = MOST_TICKS) -> None:
    """Label a pyqtgraph AxisItem as symlog (linthresh > 0), or give it back its own ticks."""
    axis.setTicks([symlog_ticks(low, high, linthresh, most)] if linthresh > 0 else None)
