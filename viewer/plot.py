"""The trajectory picture: each chosen variable's weights over the steps, the loss underneath.

A small variable (at most SMALL elements) shows every weight as a line. A large one shows
summary bands from the recorded quantiles: q0.05-q0.95, q0.25-q0.75 and the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SMALL = 64  # variables with at most this many elements are drawn weight by weight
LEGEND_MAX = 8  # a legend names each line of variables with at most this many elements
MAX_POINTS = 4000  # longer runs are subsampled to about this many steps
DEFAULT_VARIABLES = 4


def default_variables(rec) -> list[str]:
    """The first few variables, the default of `weightreel plot`."""
    return rec.variable_names[:DEFAULT_VARIABLES]


def plot_trajectories(rec, out: str, names: Sequence[str], dpi: int = 120) -> None:
    """Save the trajectory figure of variables `names` (and the loss) as a PNG at `out`."""
    trajectory_figure(rec, names, dpi).savefig(out, format="png")


def trajectory_figure(rec, names: Sequence[str], dpi: int = 120) -> Any:
    """The trajectory figure (a matplotlib Figure) of variables `names` and the loss."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if rec.num_steps == 0:
        raise ValueError(f"{rec.path}: has no steps to plot")
    rows = np.unique(np.linspace(0, rec.num_steps - 1, min(rec.num_steps, MAX_POINTS))
                     .round().astype(int))
    steps = rec.steps[rows]
    panels = len(names) + 1
    fig = Figure(figsize=(9, 2.4 * panels), dpi=dpi, layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=False):
        _variable_panel(ax, rec, name, rows, steps)
    _loss_panel(axes[-1], rec, rows, steps)
    for ax in axes:
        _log_if_huge(ax)
    _mark_blow_up(axes, rec)
    # Up to the last recorded step, also where the values are NaN and draw nothing.
    axes[-1].set_xlim(float(rec.steps[0]), float(max(rec.steps[-1], rec.steps[0] + 1)))
    axes[-1].set_xlabel("global step")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    title = rec.metadata.get("model_name") or rec.path
    fig.suptitle(f"{title}: weights over training", fontsize=11)
    return fig


def weight_labels(shape: tuple[int, ...]) -> list[str]:
    """Legend names of every weight of a variable, in C order: w[0,0], w[0,1], ... (w: scalar)."""
    from .export import element_columns

    return element_columns("w", tuple(shape))


def _variable_panel(ax, rec, name: str, rows: np.ndarray, steps: np.ndarray) -> None:
    info = rec.variables[name]
    shape = "x".join(map(str, info.shape)) or "scalar"
    if info.size <= SMALL:
        values = rec.read_rows(name, rows).reshape(len(rows), -1)
        lines = ax.plot(steps, values, linewidth=0.9, alpha=0.85)
        if info.size <= LEGEND_MAX:
            for line, label in zip(lines, weight_labels(info.shape), strict=True):
                line.set_label(label)
            ax.legend(loc="best", fontsize=7, ncols=min(info.size, 4))
            ax.set_title(f"{name} ({shape}): every weight", fontsize=9, loc="left")
        else:  # too many lines to name: say how many there are
            ax.set_title(f"{name} ({shape}): {info.size} weights, one line each", fontsize=9,
                         loc="left")
    else:
        band = {c: rec.summary_column(name, c)[rows] for c in ("q0.05", "q0.25", "q0.5",
                                                               "q0.75", "q0.95")}
        ax.fill_between(steps, band["q0.05"], band["q0.95"], color="C0", alpha=0.2,
                        linewidth=0, label="5-95%")
        ax.fill_between(steps, band["q0.25"], band["q0.75"], color="C0", alpha=0.4,
                        linewidth=0, label="25-75%")
        ax.plot(steps, band["q0.5"], color="C0", linewidth=1.2, label="median")
        ax.legend(loc="upper right", fontsize=7, ncols=3)
        ax.set_title(f"{name} ({shape}, {info.size} weights): quantile bands", fontsize=9,
                     loc="left")
    ax.axhline(0, color="0.6", linewidth=0.6, zorder=0)
    ax.set_ylabel("value")


def _loss_panel(ax, rec, rows: np.ndarray, steps: np.ndarray) -> None:
    names = [n for n in rec.scalar_names if "loss" in n] or rec.scalar_names[:1]
    for name in names:
        ax.plot(steps, rec.scalar(name)[rows], linewidth=1.0, label=name)
    ends = _epoch_end_steps(rec)
    for name in rec.epoch_scalar_names:
        if "loss" in name and ends is not None:
            ax.plot(ends, rec.epoch_scalar(name), marker="o", linewidth=1.0,
                    label=f"{name} (epoch)")
    if names or ax.lines:
        ax.legend(loc="upper right", fontsize=7)
        ax.set_ylabel("loss")
    else:
        ax.text(0.5, 0.5, "no loss recorded", ha="center", va="center", transform=ax.transAxes)


HUGE = 1e3  # a panel whose values reach this many times their median size gets a symlog axis


def _log_if_huge(ax) -> None:
    """A symmetric log axis when a few huge values (a blow-up) would flatten everything else."""
    values = [np.asarray(line.get_ydata(), np.float64) for line in ax.lines]
    values += [np.asarray(p.get_paths()[0].vertices[:, 1]) for p in ax.collections
               if p.get_paths()]
    sizes = np.abs(np.concatenate(values)) if values else np.zeros(0)
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    if sizes.size and sizes.max() > HUGE * np.median(sizes):
        from matplotlib.ticker import SymmetricalLogLocator

        linthresh = float(np.median(sizes))
        decades = np.log10(sizes.max() / linthresh)
        ax.set_yscale("symlog", linthresh=linthresh)
        # About three ticks each side, however many decades the values span.
        base = 10.0 ** max(1, int(np.ceil(decades / 3)))
        ax.yaxis.set_major_locator(SymmetricalLogLocator(base=base, linthresh=linthresh))
        ax.set_ylabel(ax.get_ylabel() + " (symlog)")


def _mark_blow_up(axes, rec) -> None:
    """Vertical lines at the first step with NaN/Inf weights and with a non-finite scalar."""
    from weightreel.formats.health import check_health

    health = check_health(rec)
    marks = [(health.first_nonfinite_weights, "weights first NaN/Inf", "red"),
             (health.first_nonfinite_scalar, "scalars first non-finite", "darkorange")]
    said = []
    for row, text, color in marks:
        if row is None:
            continue
        step = health.step(row)
        for ax in axes:
            ax.axvline(step, color=color, linestyle="--", linewidth=1.0)
        said.append(f"{text} at step {step}")
    if said:  # the reason the curves end early, in words, under the last panel's lines
        axes[-1].set_title(" | ".join(said) + " (dashed lines)", fontsize=9, loc="left",
                           color="red")


def _epoch_end_steps(rec) -> np.ndarray | None:
    """The last global step of each epoch that has epoch logs (None if any is off the timeline)."""
    if rec.num_epochs == 0:
        return None
    epochs, steps = rec.epochs, rec.steps
    ends = []
    for e in rec.epoch_numbers:
        where = np.flatnonzero(epochs == e)
        if where.size == 0:
            return None
        ends.append(steps[where[-1]])
    return np.asarray(ends)
