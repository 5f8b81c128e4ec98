"""What a view shows of a variable at a step: its values, or how they changed.

- value: W_t, the values at step t;
- since-start: W_t − W_0, the change since row 0 (the initial state);
- per-step: W_t − W_{t−1}, the change made by the step (zero at row 0: nothing before it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MODES = ("value", "since-start", "per-step")
MODE_LABELS = {"value": "values", "since-start": "change since start (W − W₀)",
               "per-step": "change per step (Wₜ − Wₜ₋₁)"}
MODE_SYMBOLS = {"value": "W", "since-start": "W − W₀", "per-step": "Wₜ − Wₜ₋₁"}


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def reference_row(mode: str, index: int) -> int | None:
    """The row subtracted from row `index` in `mode` (None: nothing is subtracted)."""
    if mode == "since-start":
        return 0
    if mode == "per-step":
        return max(index - 1, 0)
    return None


def mode_values(read: Callable[[str, int], np.ndarray], name: str, index: int,
                mode: str) -> np.ndarray:
    """The array `mode` shows of variable `name` at row `index`, read with read(name, row);
    differences are float32, computed in float64 so that small changes of big values stay."""
    values = read(name, index)
    ref = reference_row(mode, index)
    if ref is None:
        return values
    if ref == index:
        return np.zeros(np.shape(values), np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.asarray(values, np.float64) - np.asarray(read(name, ref), np.float64)
        return diff.astype(np.float32)
