"""The layer overview's numbers: how much each variable moves at each step (Qt-free).

The relative update of variable W at step t is ‖W_t − W_{t−1}‖ / ‖W_t‖, drawn as its log10.
The update norms ‖W_t − W_{t−1}‖ are a summary column, `update_norm`, in files of format 1.1
and later (NaN at row 0); a file without the column (format 1.0) has them computed from its
rows once, in blocks, by `compute_update_norms` (the viewer runs it off the GUI thread).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

UPDATE_COLUMN = "update_norm"
BLOCK_BYTES = 16 << 20  # rows read at once when computing update norms


def update_column(rec, name: str) -> int | None:
    """The position of the recorded `update_norm` summary column (the file's `columns`
    attribute names it), or None: a format 1.0 file, whose norms must be computed."""
    columns = tuple(rec.summary_columns)
    return columns.index(UPDATE_COLUMN) if UPDATE_COLUMN in columns else None


def compute_update_norms(read_range: Callable[[str, int, int], np.ndarray], name: str,
                         start: int, stop: int, row_bytes: int,
                         progress: Callable[[int], None] | None = None,
                         cancelled: Callable[[], bool] = lambda: False) -> np.ndarray | None:
    """‖W_t − W_{t−1}‖ for rows t in [start, stop) of `name` (NaN at row 0), reading blocks of
    about BLOCK_BYTES with read_range(name, a, b); None if `cancelled()` turned true.
    `progress(rows)` is called after each block with the rows done in it."""
    out = np.full(max(stop - start, 0), np.nan)
    per_block = max(1, BLOCK_BYTES // max(row_bytes, 1))
    lo = start
    while lo < stop:
        if cancelled():
            return None
        hi = min(stop, lo + per_block)
        first = max(lo - 1, 0)
        rows = np.asarray(read_range(name, first, hi), np.float64).reshape(hi - first, -1)
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.sqrt(np.sum(np.square(np.diff(rows, axis=0)), axis=1))
        out[hi - start - len(norms): hi - start] = norms
        if progress is not None:
            progress(hi - lo)
        lo = hi
    return out


def relative_updates(update_norms: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """log10(‖W_t − W_{t−1}‖ / ‖W_t‖): −inf where nothing changed (frozen), NaN where either
    norm is not finite (NaN or Inf weights) or unknown (row 0)."""
    u = np.asarray(update_norms, np.float64)
    n = np.asarray(norms, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = u / n
        ratio = np.where(u == 0, 0.0, ratio)  # a zero vector that stayed zero: no change
        out = np.log10(ratio)
    out[~(np.isfinite(u) & np.isfinite(n))] = np.nan
    return out


def colour_limits(values: np.ndarray) -> tuple[float, float]:
    """The colour scale of an overview: its finite values' 1 % quantile to their maximum."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return -6.0, 0.0
    lo, hi = float(np.quantile(finite, 0.01)), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)
