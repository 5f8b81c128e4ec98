"""formats.health and `weightreel info`/`plot` on a real run that diverges to NaN."""

from __future__ import annotations

import numpy as np
from test_cli_support import run_cli

from weightreel.formats import open_recording
from weightreel.formats.health import (
    check_health,
    explosions,
    first_nonfinite_scalar,
    norm_ratios,
)
from weightreel.viewer.plot import trajectory_figure


def first_nan_rows(path):
    """The first row holding NaN/Inf, found the slow way: reading every array."""
    with open_recording(path) as rec:
        weights = min(int(np.flatnonzero((~np.isfinite(rec.read_range(n))).reshape(
            rec.num_steps, -1).any(axis=1))[0]) for n in rec.variable_names)
        loss = rec.scalar("loss")
        return weights, int(np.flatnonzero(~np.isfinite(loss[1:]))[0]) + 1, rec.steps


def test_health_finds_the_first_nan_from_summaries_alone(diverging_run):
    weights, loss, steps = first_nan_rows(diverging_run)
    with open_recording(diverging_run) as rec:
        assert rec.scalar("loss")[10] < rec.scalar("loss")[1]  # it learned before it blew up
        health = check_health(rec)
    assert 10 < weights < len(steps) - 1
    assert health.first_nonfinite_weights == weights
    assert health.scalars["loss"] == loss and health.scalars["learning_rate"] is None
    assert health.epoch_scalars["val_loss"] is not None
    jumps = [v for v in health.variables if v.jump is not None]
    assert jumps and max(v.jump_ratio for v in jumps) > 5


def test_scalar_and_norm_rules():
    nan = np.nan
    assert first_nonfinite_scalar(np.array([nan, 1.0, 2.0])) is None  # row 0: not logged yet
    assert first_nonfinite_scalar(np.array([nan, 1.0, nan, 3.0])) == 2
    assert first_nonfinite_scalar(np.array([nan, np.inf, 1.0])) == 1
    ratios = norm_ratios(np.array([0.0, 1.0, 2.0, 40.0, nan, 1.0]))
    np.testing.assert_allclose(ratios, [nan, nan, 2.0, 20.0, nan, nan], equal_nan=True)
    assert explosions(np.array([1.0, 2.0, 40.0, 41.0]), factor=10).tolist() == [2]
    assert explosions(np.array([1.0, 2.0, 40.0, 41.0]), factor=30).tolist() == []


def test_info_prints_the_first_nan_step(diverging_run):
    weights, loss, steps = first_nan_rows(diverging_run)
    result = run_cli("info", diverging_run)
    assert result.returncode == 0, result.stderr
    health = result.stdout.split("Health")[1]
    assert f"first NaN/Inf at step {steps[weights]}" in health
    assert f"loss not finite from step {steps[loss]}" in health
    assert "largest norm jump" in health and "diverging/hidden/kernel" in health


def test_plot_draws_to_the_last_step_and_marks_the_first_nan(diverging_run):
    weights, _, steps = first_nan_rows(diverging_run)
    with open_recording(diverging_run) as rec:
        fig = trajectory_figure(rec, rec.variable_names[:2])
    axes = fig.axes
    assert axes[-1].get_xlim()[1] >= steps[-1]
    marked = [line for line in axes[0].lines if list(line.get_xdata()) == [steps[weights]] * 2]
    assert marked and marked[0].get_color() == "red"
    assert f"weights first NaN/Inf at step {steps[weights]}" in axes[-1].get_title(loc="left")
    assert axes[-1].get_yscale() == "symlog"  # the loss reaches huge values before NaN
