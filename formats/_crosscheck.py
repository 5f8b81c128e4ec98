"""validate's data check: each stored row against the summaries recorded with it.

A byte flip in a shared file can change a value and leave the HDF5 structure sound; the
summaries were computed from the values before they were stored, so comparing the two finds
such damage. Rows are read in blocks of at most BLOCK_BYTES, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .reader import Recording

BLOCK_BYTES = 16 << 20
CHECKED = ("min", "max", "nan_count", "inf_count", "norm")
# Summaries come from the values before they were stored: float16 storage rounds them, and
# large float32 variables have their norm summed in float32.
RTOL = {"float16": 2e-3, "other": 1e-3}
MAX_REPORTED = 5  # mismatching rows reported per variable

Progress = Callable[[int, int], None]


def data_problems(rec: Recording, progress: Progress | None = None) -> list[str]:
    """One line per variable whose stored rows contradict their summaries (first rows named)."""
    names = rec.variable_names
    total = rec.num_steps * len(names)
    done = 0
    problems = []
    for name in names:
        problems += _variable(rec, name)
        done += rec.num_steps
        if progress is not None:
            progress(done, total)
    return problems


def _columns(rec: Recording, name: str) -> dict[str, int] | None:
    raw = rec._summaries[name].attrs.get("columns")
    columns = [c.decode() if isinstance(c, bytes) else str(c) for c in
               (raw if raw is not None else rec.summary_columns)]
    if not all(c in columns for c in CHECKED):
        return None
    return {c: columns.index(c) for c in CHECKED}


def _variable(rec: Recording, name: str) -> list[str]:
    columns = _columns(rec, name)
    info = rec.variables[name]
    if columns is None or rec.num_steps == 0 or info.size == 0:
        return []
    rows_per_block = max(1, BLOCK_BYTES // max(1, info.size * np.dtype(info.stored_dtype).itemsize))
    bad: list[int] = []
    for start in range(0, rec.num_steps, rows_per_block):
        stop = min(start + rows_per_block, rec.num_steps)
        values = rec.read_range(name, start, stop).reshape(stop - start, -1)
        summaries = rec.summary(name, start, stop)
        bad += [start + int(i) for i in _mismatches(values, summaries, columns)]
    if not bad:
        return []
    steps = [int(rec.steps[i]) for i in bad[:MAX_REPORTED]]
    more = f" and {len(bad) - MAX_REPORTED} more" if len(bad) > MAX_REPORTED else ""
    return [f"/variables/{name} does not match its summaries at step"
            f"{'s' if len(bad) > 1 else ''} {', '.join(map(str, steps))}{more} (the data or "
            "the summaries are damaged)"]


def _mismatches(values: np.ndarray, summaries: np.ndarray, col: dict[str, int]) -> np.ndarray:
    """Positions in the block whose values disagree with their summary rows."""
    if values.dtype.kind not in "fiub":
        return np.arange(len(values))
    stored = "float16" if values.dtype == np.float16 else "other"
    if values.dtype.kind == "f" and np.isfinite(values).all():
        return _finite_mismatches(values, summaries, col, RTOL[stored])
    work = values.astype(np.float64)
    nan = np.isnan(work).sum(axis=1)
    finite = np.isfinite(work)
    inf = work.shape[1] - finite.sum(axis=1) - nan
    bad = (nan != summaries[:, col["nan_count"]]) | (inf != summaries[:, col["inf_count"]])
    if stored == "float16":  # values past float16's range were stored as inf: not damage
        bad = (nan != summaries[:, col["nan_count"]]) | (inf < summaries[:, col["inf_count"]])
        overflowed = inf > summaries[:, col["inf_count"]]
    else:
        overflowed = np.zeros(len(work), dtype=bool)
    any_finite = finite.any(axis=1)
    low = np.where(finite, work, np.inf).min(axis=1)
    high = np.where(finite, work, -np.inf).max(axis=1)
    norm = np.sqrt(np.square(np.where(finite, work, 0.0)).sum(axis=1))
    rtol = RTOL[stored]
    for got, column in ((low, "min"), (high, "max"), (norm, "norm")):
        want = summaries[:, col[column]]
        differs = ~np.isclose(got, want, rtol=rtol, atol=1e-30, equal_nan=False)
        bad |= any_finite & ~overflowed & differs
    bad |= ~any_finite & ~overflowed & ~np.isnan(summaries[:, col["min"]])
    return np.flatnonzero(bad)


def _finite_mismatches(values: np.ndarray, summaries: np.ndarray, col: dict[str, int],
                       rtol: float) -> np.ndarray:
    """The common case, no NaN or Inf: a few passes in the stored precision, not float64."""
    work = values if values.itemsize >= 4 else values.astype(np.float32)
    squares = np.square(work).sum(axis=1, dtype=np.float64 if work.itemsize > 4 else None)
    squares = squares.astype(np.float64)
    overflow = ~np.isfinite(squares)  # float32 squares past 3e38: sum those rows in float64
    if overflow.any():
        squares[overflow] = np.square(work[overflow].astype(np.float64)).sum(axis=1)
    got = {"min": work.min(axis=1).astype(np.float64), "max": work.max(axis=1).astype(np.float64),
           "norm": np.sqrt(squares)}
    bad = (summaries[:, col["nan_count"]] != 0) | (summaries[:, col["inf_count"]] != 0)
    for column, value in got.items():
        bad |= ~np.isclose(value, summaries[:, col[column]], rtol=rtol, atol=1e-30)
    return np.flatnonzero(bad)
