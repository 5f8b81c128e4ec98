"""When did a run blow up? Non-finite values and norm jumps, from summaries and scalars only.

Everything here reads the per-step summaries (norm, nan_count, inf_count) and the scalars,
never a variable's arrays, so it costs the same on a 10 kB file and on a 100 GB one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .reader import Recording

DEFAULT_EXPLOSION_FACTOR = 10.0


@dataclass(frozen=True)
class VariableHealth:
    """One variable: where it first holds NaN/Inf, and its largest step-to-step norm ratio.

    Positions are rows of the timeline (None when there is none); `jump_ratio` is
    norm[jump] / norm[jump - 1] (NaN when no ratio could be formed).
    """

    name: str
    first_nonfinite: int | None
    jump: int | None
    jump_ratio: float


@dataclass
class Health:
    """The health of a whole recording (see check_health)."""

    steps: np.ndarray
    variables: list[VariableHealth] = field(default_factory=list)
    scalars: dict[str, int | None] = field(default_factory=dict)  # name -> first bad row
    epoch_scalars: dict[str, int | None] = field(default_factory=dict)  # name -> epoch number

    @property
    def first_nonfinite_weights(self) -> int | None:
        """The first row at which any variable holds NaN or Inf."""
        return _earliest(v.first_nonfinite for v in self.variables)

    @property
    def first_nonfinite_scalar(self) -> int | None:
        return _earliest(self.scalars.values())

    def step(self, position: int | None) -> int | None:
        return None if position is None else int(self.steps[position])


def first_nonfinite_row(nan_count: np.ndarray, inf_count: np.ndarray) -> int | None:
    """The first row whose NaN or Inf count is not zero."""
    bad = np.flatnonzero((np.nan_to_num(nan_count) > 0) | (np.nan_to_num(inf_count) > 0))
    return int(bad[0]) if bad.size else None


def first_nonfinite_scalar(values: np.ndarray) -> int | None:
    """The first row at which a scalar is Inf, or NaN after it was first logged.

    NaN means "not logged" too (row 0 has no loss yet), so NaNs before the first finite value
    do not count.
    """
    values = np.asarray(values, np.float64)
    logged = np.flatnonzero(np.isfinite(values))
    start = int(logged[0]) if logged.size else values.size
    bad = np.flatnonzero(np.isinf(values))
    if start < values.size:
        bad = np.union1d(bad, start + np.flatnonzero(np.isnan(values[start:])))
    return int(bad[0]) if bad.size else None


def norm_ratios(norms: np.ndarray) -> np.ndarray:
    """norm[i] / norm[i-1] for every row (NaN at row 0, after a zero norm, and where either
    norm is not finite): how many times larger the variable became in one row."""
    norms = np.asarray(norms, np.float64)
    ratios = np.full(norms.shape, np.nan)
    if norms.size > 1:
        prev, cur = norms[:-1], norms[1:]
        ok = np.isfinite(prev) & np.isfinite(cur) & (prev > 0)
        ratios[1:][ok] = cur[ok] / prev[ok]
    return ratios


def largest_jump(norms: np.ndarray) -> tuple[int | None, float]:
    """The row of the largest norm ratio to the row before, and that ratio."""
    ratios = norm_ratios(norms)
    if not np.any(np.isfinite(ratios)):
        return None, float("nan")
    row = int(np.nanargmax(ratios))
    return row, float(ratios[row])


def explosions(norms: np.ndarray, factor: float = DEFAULT_EXPLOSION_FACTOR) -> np.ndarray:
    """Rows at which the norm grew more than `factor` times in one row."""
    ratios = norm_ratios(norms)
    return np.flatnonzero(np.nan_to_num(ratios, nan=0.0) > factor)


def finite_norms(norm: np.ndarray, nan_count: np.ndarray, inf_count: np.ndarray) -> np.ndarray:
    """The norms, NaN at rows that hold NaN/Inf (there the summary's norm skips those values,
    and a ratio to it would mean nothing)."""
    bad = (np.nan_to_num(nan_count) > 0) | (np.nan_to_num(inf_count) > 0)
    return np.where(bad, np.nan, np.asarray(norm, np.float64))


def variable_health(name: str, norm: np.ndarray, nan_count: np.ndarray,
                    inf_count: np.ndarray) -> VariableHealth:
    jump, ratio = largest_jump(finite_norms(norm, nan_count, inf_count))
    return VariableHealth(name, first_nonfinite_row(nan_count, inf_count), jump, ratio)


def check_health(rec: Recording) -> Health:
    """The health of recording `rec`, from its summaries and scalars."""
    health = Health(steps=np.asarray(rec.steps))
    columns = rec.summary_columns
    j_norm, j_nan, j_inf = (columns.index(c) for c in ("norm", "nan_count", "inf_count"))
    for name in rec.variable_names:
        rows = rec.summary(name)
        health.variables.append(
            variable_health(name, rows[:, j_norm], rows[:, j_nan], rows[:, j_inf]))
    for name in rec.scalar_names:
        health.scalars[name] = first_nonfinite_scalar(rec.scalar(name))
    numbers = rec.epoch_numbers if rec.num_epochs else np.zeros(0, np.int64)
    for name in rec.epoch_scalar_names:
        row = first_nonfinite_scalar(rec.epoch_scalar(name))
        health.epoch_scalars[name] = None if row is None else int(numbers[row])
    return health


def _earliest(rows) -> int | None:
    found = [r for r in rows if r is not None]
    return min(found) if found else None
