"""How values map onto colours, histogram bins and distribution bands: the scale choice.

- fixed: one scale over the whole run (from the recorded quantile summaries of every step);
- step: fitted to each step (its 0.1–99.9 % quantiles);
- robust (the default): each step's 1–99 % quantiles of its finite values, narrowed to
  Tukey's fences (quartiles ∓ 1.5 × the interquartile range) when a heavy tail reaches past
  them: a few exploding units then do not wash out the rest. Values beyond are drawn clipped
  to the ends of the colour map. The limits are widened to two significant digits.

A step with no finite values (all NaN or Inf) never sets a scale: it keeps the nearest earlier
step's. In `fixed` the run's extremes do (a run ending in 1e19 is one flat colour before it):
that is what the choice means, and why it is not the default.

`symlog` spreads values by sign(x)·log10(1 + |x|/c) before mapping them, for values that span
orders of magnitude; c is a tenth of the run's typical spread (the median of its per-step
standard deviations), or of the frame's own for the difference modes.

The difference modes (since start, per step) have no recorded summaries: their scale is fitted
to each frame's own values as it is read (`FromData`), with the same quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weightreel.formats import SUMMARY_COLUMNS

from .colors import ColorScale

SCALES = ("fixed", "step", "robust")
DEFAULT_SCALE = "robust"
QUANTILES = {"step": (0.001, 0.999), "robust": (0.01, 0.99)}
DATA_SAMPLE = 1 << 16  # a frame's quantiles come from at most this many of its values
FENCE = 1.5  # robust: at most this many interquartile ranges beyond the quartiles
SCALE_LABELS = {"fixed": "scale fixed over the run", "step": "scale per step (0.1–99.9 %)",
                "robust": "robust scale (1–99 %, outliers clipped)"}


def fenced(lo: float, hi: float, q1: float, q3: float) -> tuple[float, float]:
    """[lo, hi] narrowed to Tukey's fences q1 − FENCE·IQR, q3 + FENCE·IQR (if they are wider
    apart than nothing)."""
    iqr = q3 - q1
    if not (np.isfinite(iqr) and iqr > 0):
        return lo, hi
    return max(lo, q1 - FENCE * iqr), min(hi, q3 + FENCE * iqr)


def _column(q: float) -> int:
    return SUMMARY_COLUMNS.index(f"q{q:g}")


def run_limits(rows: np.ndarray) -> tuple[float, float]:
    """The lowest and highest finite value quantiles (0.1 %, 99.9 %) over all `rows`."""
    lo = rows[:, _column(0.001)]
    hi = rows[:, _column(0.999)]
    lo, hi = lo[np.isfinite(lo)], hi[np.isfinite(hi)]
    return (float(lo.min()), float(hi.max())) if len(lo) and len(hi) else (0.0, 0.0)


def step_limits(rows: np.ndarray, index: int, kind: str) -> tuple[float, float] | None:
    """The `kind` quantiles of step `index`, or of the nearest earlier step that has finite
    ones (a step all NaN or Inf has none); None if no step up to `index` has."""
    q_lo, q_hi = QUANTILES[kind]
    lo, hi = rows[: index + 1, _column(q_lo)], rows[: index + 1, _column(q_hi)]
    if index < len(rows) and np.isfinite(lo[index]) and np.isfinite(hi[index]):
        k = index  # the usual case, without a search (asked on every frame)
    else:
        ok = np.nonzero(np.isfinite(lo) & np.isfinite(hi))[0]
        if not len(ok):
            return None
        k = int(ok[-1])
    a, b = float(lo[k]), float(hi[k])
    if kind == "robust":
        a, b = fenced(a, b, float(rows[k, _column(0.25)]), float(rows[k, _column(0.75)]))
    if a == b:  # most values equal: widen to the step's extremes
        a, b = float(rows[k, SUMMARY_COLUMNS.index("min")]), float(rows[k, SUMMARY_COLUMNS.index(
            "max")])
    return (a, b) if np.isfinite(a) and np.isfinite(b) else (float(lo[k]), float(hi[k]))


def rounded(scale: ColorScale) -> ColorScale:
    """`scale` widened to two significant digits (±0.2034 → ±0.21): round colour-bar labels,
    and neighbouring steps mostly share one scale (their frames, bar and bins stay put)."""
    span = scale.high - scale.low
    if not (np.isfinite(span) and span > 0):
        return scale
    if scale.diverging:
        limit = _round_up(scale.high)
        return ColorScale(-limit, limit, True, scale.linthresh)
    unit = 10.0 ** (np.floor(np.log10(span)) - 1)
    low = _tidy(np.floor(scale.low / unit + FUZZ) * unit)
    high = _tidy(np.ceil(scale.high / unit - FUZZ) * unit)
    return ColorScale(low, high, False, scale.linthresh)


FUZZ = 1e-9  # 0.21 / 0.01 is 20.999999999999996: not a reason to widen it


def _round_up(x: float) -> float:
    unit = 10.0 ** (np.floor(np.log10(x)) - 1)
    return _tidy(np.ceil(x / unit - FUZZ) * unit)


def _tidy(x: float) -> float:
    """2.3000000000000003 → 2.3."""
    return float(f"{x:.12g}")


def typical_spread(rows: np.ndarray) -> float:
    """The median over steps of the finite per-step standard deviations (symlog's scale)."""
    std = rows[:, SUMMARY_COLUMNS.index("std")]
    std = std[np.isfinite(std) & (std > 0)]
    return float(np.median(std)) if len(std) else 1.0


@dataclass(frozen=True)
class ScaleChoice:
    """One of SCALES, and whether values are spread by a symmetric log."""

    kind: str = DEFAULT_SCALE
    symlog: bool = False

    def __post_init__(self) -> None:
        if self.kind not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {self.kind!r}")

    def describe(self) -> str:
        return SCALE_LABELS[self.kind] + (", symmetric log" if self.symlog else "")


def value_scale(rows: np.ndarray, index: int, choice: ScaleChoice, diverging: bool,
                run: tuple[float, float]) -> ColorScale:
    """The colour scale of the values at step `index` from the summary `rows` of a variable
    whose run spans `run` (its fixed limits)."""
    limits = run if choice.kind == "fixed" else step_limits(rows, index, choice.kind)
    scale = ColorScale.centred(1.0) if limits is None else ColorScale.over(*limits, diverging)
    if choice.kind == "robust":
        scale = rounded(scale)
    if choice.symlog:
        scale = scale.with_symlog(0.1 * typical_spread(rows))
    return scale


@dataclass(frozen=True)
class FromData:
    """A scale to fit to a frame's own values when it is read (off the GUI thread)."""

    choice: ScaleChoice
    diverging: bool = True

    def resolve(self, image: np.ndarray) -> ColorScale:
        flat = np.asarray(image).ravel()
        flat = flat[:: max(1, -(-flat.size // DATA_SAMPLE))]
        finite = flat[np.isfinite(flat)].astype(np.float64)
        if not len(finite):
            return ColorScale.centred(1.0)
        if self.choice.kind == "fixed":  # no summaries of differences: the frame's extremes
            lo, hi = float(finite.min()), float(finite.max())
        else:
            lo, hi = (float(v) for v in np.quantile(finite, QUANTILES[self.choice.kind]))
            if self.choice.kind == "robust":
                lo, hi = fenced(lo, hi, *(float(v) for v in np.quantile(finite, (0.25, 0.75))))
            if lo == hi:
                lo, hi = float(finite.min()), float(finite.max())
        scale = ColorScale.over(lo, hi, self.diverging)
        if self.choice.kind == "robust":
            scale = rounded(scale)
        if self.choice.symlog:
            spread = float(np.std(finite))
            scale = scale.with_symlog(0.1 * spread if spread > 0 else 1.0)
        return scale


def resolve(spec: ColorScale | FromData, image: np.ndarray) -> ColorScale:
    """The colour scale a spec asks for: itself, or one fitted to `image`."""
    return spec.resolve(image) if isinstance(spec, FromData) else spec
