"""The timeline on a real diverging Keras run: curves, epoch marks, blow-up marks, jump (N)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from viewer_window import main_window

from weightreel.formats import RecordingWriter, open_recording


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        yield win


def truth(path):
    """What the marks must show, computed with numpy from the file's arrays and scalars."""
    with open_recording(path) as rec:
        bad = [np.flatnonzero((~np.isfinite(rec.read_range(n))).reshape(rec.num_steps, -1)
                               .any(axis=1)) for n in rec.variable_names]
        loss = rec.scalar("loss")
        return {"steps": rec.steps, "epochs": rec.epochs, "batches": rec.batches,
                "weights": min(int(b[0]) for b in bad if b.size),
                "loss_row": int(np.flatnonzero(~np.isfinite(loss[1:]))[0]) + 1, "loss": loss,
                "val_loss": rec.epoch_scalar("val_loss"), "epoch_numbers": rec.epoch_numbers}


def test_timeline_marks_epochs_the_first_nan_and_explosions(qtbot, window, diverging_run):
    t = truth(diverging_run)
    assert window.open_file(str(diverging_run))
    strip = window.timeline.loss
    assert strip.nonfinite_line.value() == t["steps"][t["weights"]]
    assert strip.scalar_line.value() == t["steps"][t["loss_row"]]
    starts = t["steps"][np.flatnonzero(np.diff(t["epochs"])) + 1]
    assert [line.value() for line in strip.epoch_lines] == list(starts)
    explosions = [line.value() for line in strip.explosion_lines]
    assert explosions and all(s <= t["steps"][t["weights"]] + 1 for s in explosions)
    summary = window.timeline.curve_controls.summary.text()
    assert f"weights NaN/Inf from step {t['steps'][t['weights']]}" in summary
    window.timeline.curve_controls.factor.setValue(1e6)  # a factor no step reaches
    assert strip.explosion_lines == [] and strip.nonfinite_line is not None
    strip.grab()  # draws with all the marks (log axis: the loss reaches ~1e30)


def test_jump_to_first_nan_by_menu_and_key(qtbot, window, diverging_run):
    t = truth(diverging_run)
    assert window.open_file(str(diverging_run))
    assert window.model.dims.index == 0
    window.nan_action.trigger()
    assert window.model.dims.index == t["weights"]
    assert window.timeline.spin.value() == t["steps"][t["weights"]]
    window.model.dims.set_index(0)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_N)
    assert window.model.dims.index == t["weights"]


def test_jump_says_so_when_a_run_is_finite(qtbot, window, tmp_path):
    path = tmp_path / "fine.h5"
    with RecordingWriter(path) as w:
        for k in range(5):
            w.append({"w": np.full((3, 3), k, np.float32)}, scalars={"loss": 1.0 / (k + 1)})
    assert window.open_file(str(path))
    window.model.dims.set_index(2)
    window.nan_action.trigger()
    assert window.model.dims.index == 2
    assert "No NaN or Inf" in window.statusBar().currentMessage()
    assert window.timeline.curve_controls.summary.text() == "all finite"


def test_curves_are_labelled_and_any_scalar_can_be_drawn(qtbot, window, diverging_run):
    t = truth(diverging_run)
    assert window.open_file(str(diverging_run))
    strip, controls = window.timeline.loss, window.timeline.curve_controls
    assert list(strip.items) == ["loss", "epoch:val_loss"]
    assert strip.labels["loss"] == "loss (running mean over the epoch)"
    # per-epoch values at each epoch's last recorded step
    x, y = strip.data("epoch:val_loss")
    ends = [t["steps"][np.flatnonzero(t["epochs"] == e)[-1]] for e in t["epoch_numbers"]]
    finite = np.isfinite(t["val_loss"])
    np.testing.assert_array_equal(x, np.asarray(ends)[finite])
    np.testing.assert_allclose(y, t["val_loss"][finite])
    assert set(controls.actions_by_key) >= {"learning_rate", "accuracy", "loss:per-batch",
                                            "epoch:val_accuracy"}
    controls.actions_by_key["learning_rate"].trigger()
    assert "learning_rate" in strip.items and strip.labels["learning_rate"].endswith("(per step)")
    controls.actions_by_key["loss:per-batch"].trigger()
    label = strip.labels["loss:per-batch"]
    assert "recovered from the running means" in label and "last may be smaller" in label
    x, y = strip.data("loss:per-batch")
    m, b = t["loss"], t["batches"]
    for row in (2, 5, 20):  # x_b = (b+1) m_b - b m_(b-1), within an epoch
        assert b[row] == b[row - 1] + 1
        expect = (b[row] + 1) * m[row] - b[row] * m[row - 1]
        assert y[list(x).index(t["steps"][row])] == pytest.approx(expect)
    controls.actions_by_key["loss"].trigger()  # unchecked: no longer drawn
    assert "loss" not in strip.items


def test_per_batch_values_are_recovered_only_where_batches_follow_each_other():
    from weightreel.viewer.components.curves import CurvesModel, per_batch_values

    batch_losses = np.array([4.0, 2.0, 3.0, 1.0, 5.0])
    running = np.cumsum(batch_losses) / np.arange(1, 6)
    every = np.r_[np.nan, running]  # row 0: the initial state, no loss yet
    got, missing = per_batch_values(every, np.array([-1, 0, 1, 2, 3, 4]), np.zeros(6, int))
    np.testing.assert_allclose(got, np.r_[np.nan, batch_losses], equal_nan=True)
    assert missing == 0
    # recorded every 2nd batch: only the epoch's first batch can be recovered
    got, missing = per_batch_values(np.r_[np.nan, running[[0, 2, 4]]], np.array([-1, 0, 2, 4]),
                                    np.zeros(4, int))
    np.testing.assert_allclose(got, [np.nan, 4.0, np.nan, np.nan], equal_nan=True)
    assert missing == 2
    assert "not recoverable at 2 steps" in CurvesModel.inexact_note(missing)


def test_a_1_0_file_opens_with_its_18_summary_columns(qtbot, window, samples_dir):
    assert window.open_file(str(samples_dir / "golden-v1.0.h5"), step=5)
    view = next(iter(window.views.views.values()))
    qtbot.waitUntil(lambda: view.shown_index == 5, timeout=10000)
    recording = window.model.recording
    assert len(recording.summary_columns) == 18 and "update_norm" not in recording.summary_columns
    row = recording.summary_row(view.name, 5)
    assert row["max"] == recording.read(view.name, 5).max()
    assert window.timeline.curve_controls.summary.text() == "all finite"
    assert window.timeline.loss.nonfinite_line is None and window.timeline.loss.epoch_lines
