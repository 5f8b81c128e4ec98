"""Over-time plots and the loss strip against global steps, on real widgets, offscreen."""

import numpy as np
import pytest
from PyQt5.QtCore import QPointF, Qt
from viewer_window import main_window

from weightreel.formats import RecordingWriter
from weightreel.viewer._qt.over_time import TRAJECTORY_MIN_HEIGHT, SparseAxis, coarser
from weightreel.viewer.synthetic import SHAPES, SyntheticRun, declare

WAIT_MS = 10000
STEPS = np.array([*range(100, 200, 5), *range(400, 500, 10)])  # every 5, then resumed every 10


def write_resumed(path):
    """A run recorded every 5 steps from step 100, then resumed at step 400 every 10."""
    run = SyntheticRun()
    writer = RecordingWriter(path)
    declare(writer, SHAPES)
    for k, step in enumerate(STEPS):
        t = k / len(STEPS)
        writer.append(run.arrays(t), step=int(step), epoch=k // 10, batch=k % 10,
                      scalars={"loss": run.loss(t)})
    writer.close()
    return str(path)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        yield win


def test_plots_are_drawn_against_global_steps(qtbot, window, tmp_path):
    assert window.open_file(write_resumed(tmp_path / "resumed.h5"), step=420)
    window.model.selection.set_names(["dense/bias"])
    view = window.views.views["dense/bias"]
    index = int(np.nonzero(STEPS == 420)[0][0])
    assert window.model.dims.index == index
    qtbot.waitUntil(lambda: view.slow_index == index and len(view.trajectories.background) == 16
                    and window.timeline.loss.cursor.value() == 420, timeout=WAIT_MS)
    for plot in (view.distribution.plot, view.trajectories.plot, window.timeline.loss):
        axis = plot.getAxis("bottom")
        assert axis.labelText == "step"
    np.testing.assert_array_equal(view.distribution.median.getData()[0], STEPS)
    np.testing.assert_array_equal(view.trajectories.background[0].getData()[0], STEPS)
    np.testing.assert_array_equal(window.timeline.loss.curve.getData()[0], STEPS)
    assert view.distribution.cursor.value() == 420
    assert view.trajectories.cursor.value() == 420
    assert window.timeline.loss.cursor.value() == 420
    hover = view.trajectories.hover_text(191, 1e9)
    assert hover.startswith("dense/bias[") and "at step 195" in hover


def test_clicking_the_loss_strip_jumps_to_the_nearest_recorded_step(qtbot, window, tmp_path):
    assert window.open_file(write_resumed(tmp_path / "resumed.h5"))
    loss = window.timeline.loss
    assert len(loss.curve.getData()[0]) == len(STEPS)
    qtbot.wait(50)  # let the strip lay out before mapping steps to the screen
    vb = loss.getPlotItem().vb
    y = float(np.mean(vb.viewRange()[1]))
    for step, expected in ((152, 150), (430, 430), (290, 195), (310, 400)):
        scene = vb.mapViewToScene(QPointF(step, y))
        qtbot.mouseClick(loss.viewport(), Qt.LeftButton, pos=loss.mapFromScene(scene))
        qtbot.waitUntil(lambda e=expected: window.model.dims.step_at(window.model.dims.index)
                        == e, timeout=WAIT_MS)
        qtbot.waitUntil(lambda e=expected: loss.cursor.value() == e, timeout=WAIT_MS)
        assert window.timeline.spin.value() == expected


def test_short_value_axes_label_few_ticks_and_the_trajectory_plot_has_room(qtbot, window,
                                                                            tmp_path):
    axis = SparseAxis("left")
    assert axis.tickSpacing(0.0, 0.9, 60)[0][0] >= 0.5  # 0 and 0.5 at most, not 0, 0.2, ...
    assert axis.tickSpacing(0.0, 0.9, 400)[0][0] <= 0.2  # a long axis keeps its fine labels
    assert [coarser(s) for s in (0.1, 0.2, 0.5, 2.0)] == pytest.approx([0.2, 0.5, 1.0, 5.0])
    assert window.open_file(write_resumed(tmp_path / "resumed.h5"))
    window.model.selection.set_names(["dense/kernel"])  # big: no trajectories until clicked
    view = window.views.views["dense/kernel"]
    qtbot.waitUntil(view.is_ready, timeout=WAIT_MS)
    plot = view.trajectories.plot
    assert plot.height() >= TRAJECTORY_MIN_HEIGHT
    assert isinstance(plot.getAxis("left"), SparseAxis)
    assert not plot.getAxis("left").style["showValues"]  # empty: no value labels to crowd
    window.model.selection.toggle_pick("dense/kernel", (1, 2))
    qtbot.waitUntil(lambda: (1, 2) in view.trajectories.curves, timeout=WAIT_MS)
    assert plot.getAxis("left").style["showValues"]


def test_a_small_loss_keeps_its_axis_label_whole(qtbot, window, tmp_path):
    run, path = SyntheticRun(), tmp_path / "small_loss.h5"
    writer = RecordingWriter(path)
    declare(writer, SHAPES)
    for k in range(30):  # a loss of a few thousandths: no "loss (x0.001)" scaling
        writer.append(run.arrays(k / 30), step=k, scalars={"loss": 0.004 / (k + 1)})
    writer.close()
    assert window.open_file(str(path))
    axis = window.timeline.loss.getPlotItem().getAxis("left")
    qtbot.wait(50)  # laid out and drawn once
    assert axis.labelText == "loss"
    assert "loss" in axis.labelString() and "x0" not in axis.labelString()
    assert axis.autoSIPrefixScale == 1.0  # tick values are the loss itself
    window.timeline.loss.grab()  # paints: the label is worked out again on drawing
    assert "x0" not in axis.labelString()
