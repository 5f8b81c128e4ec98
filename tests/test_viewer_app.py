"""The viewer's real widgets, offscreen, driven with pytest-qt."""

import subprocess
import sys

import h5py
import numpy as np
import pytest
from PyQt5.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt5.QtGui import QDropEvent
from viewer_window import main_window

from weightreel.viewer._qt.colorize import colorize
from weightreel.viewer._qt.settings import recent_files
from weightreel.viewer.synthetic import write_synthetic

WAIT_MS = 5000


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("rec") / "synthetic.h5", steps=120)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch, size=(1300, 800), dialogs=True) as win:
        yield win


def open_and_wait(qtbot, win, path, step=None):
    assert win.open_file(path, step)
    view = next(iter(win.views.views.values()))
    qtbot.waitUntil(lambda: view.shown_index == win.model.dims.index, timeout=WAIT_MS)
    return view


def test_open_shows_variables_view_and_status(qtbot, window, recording):
    view = open_and_wait(qtbot, window, recording, step=60)
    assert window.model.dims.index == 60
    assert view.name == "conv2d/kernel"  # the first kernel-like variable
    names = [it.data(0, Qt.UserRole) for it in window.variables.variable_items()]
    assert names[:2] == ["conv2d/kernel", "conv2d/bias"] and len(names) == 6
    assert "121 steps" in window.file_label.text() and "finished" in window.file_label.text()
    assert "step 60 · epoch 2 · batch 19" in window.timeline.readout.text()
    expected = view.heatmap.layout.to_image(window.model.recording.read("conv2d/kernel", 60))
    np.testing.assert_array_equal(view.heatmap.values, expected)
    assert view.heatmap.image.qimage == colorize(expected, view.heatmap.scale)  # its colours
    assert recent_files(window.settings)[0].endswith("synthetic.h5")


def test_scrub_with_slider_spin_box_and_keys(qtbot, window, recording):
    view = open_and_wait(qtbot, window, recording)
    rec = window.model.recording
    for target in (17, 3, 99):
        with qtbot.waitSignal(view.frame_shown, timeout=WAIT_MS):
            window.timeline.slider.setValue(target)
        qtbot.waitUntil(lambda t=target: view.shown_index == t, timeout=WAIT_MS)
        np.testing.assert_array_equal(view.heatmap.values,
                                      view.heatmap.layout.to_image(rec.read(view.name, target)))
        assert f"step {target} " in window.timeline.readout.text()
        qtbot.waitUntil(lambda t=target: window.timeline.loss.cursor.value() == t,
                        timeout=WAIT_MS)  # the strip's cursor follows at most every 100 ms
    window.timeline.spin.setValue(42)
    assert window.model.dims.index == 42
    window.activateWindow()
    window.setFocus()
    for key, modifier, expected in [(Qt.Key_Right, Qt.NoModifier, 43),
                                    (Qt.Key_Right, Qt.ShiftModifier, 53),
                                    (Qt.Key_Left, Qt.NoModifier, 52),
                                    (Qt.Key_PageDown, Qt.NoModifier, 61),
                                    (Qt.Key_PageUp, Qt.NoModifier, 41),
                                    (Qt.Key_End, Qt.NoModifier, 120),
                                    (Qt.Key_Home, Qt.NoModifier, 0)]:
        qtbot.keyClick(window, key, modifier)
        assert window.model.dims.index == expected, key
    stats = view.stats.text()
    assert "min" in stats and "NaN 0" in stats


def test_play_stops_at_end_and_loops(qtbot, window, recording):
    view = open_and_wait(qtbot, window, recording)
    shown = []
    view.frame_shown.connect(shown.append)
    window.timeline.speed.setValue(10)  # slow: each step stays 100 ms, even on a busy machine
    window.model.dims.set_index(112)
    qtbot.keyClick(window, Qt.Key_Space)
    assert window.model.playback.playing
    qtbot.waitUntil(lambda: not window.model.playback.playing, timeout=WAIT_MS)
    assert window.model.dims.index == 120
    qtbot.waitUntil(lambda: view.shown_index == 120, timeout=WAIT_MS)
    assert len(set(shown)) >= 3 and shown == sorted(shown)  # 112, some between, 120
    window.timeline.speed.setValue(200)  # the loop: only where the position goes is checked
    window.timeline.loop.setChecked(True)
    assert window.model.playback.loop
    window.timeline.play_btn.click()  # at the end: starts again from the first step
    qtbot.waitUntil(lambda: window.model.dims.index > 110, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.model.dims.index < 50, timeout=WAIT_MS)  # wrapped around
    assert window.model.playback.playing
    window.timeline.play_btn.click()
    assert not window.model.playback.playing


def test_select_several_variables_side_by_side(qtbot, window, recording):
    open_and_wait(qtbot, window, recording)
    items = {it.data(0, Qt.UserRole): it for it in window.variables.variable_items()}
    items["dense/kernel"].setSelected(True)
    items["dense_1/bias"].setSelected(True)
    assert list(window.views.views) == ["conv2d/kernel", "dense/kernel", "dense_1/bias"]
    assert window.views.grid.count() == 3
    window.model.dims.set_index(30)
    for view in window.views.views.values():
        qtbot.waitUntil(lambda v=view: v.shown_index == 30, timeout=WAIT_MS)
    bias = window.views.views["dense_1/bias"]
    assert bias.heatmap.values.shape == (1, 10)
    assert (bias.heatmap.image.qimage.width(), bias.heatmap.image.qimage.height()) == (10, 1)
    window.variables.filter.setText("dense_1")
    visible = [it.data(0, Qt.UserRole) for it in window.variables.variable_items()
               if not it.isHidden()]
    assert visible == ["dense_1/kernel", "dense_1/bias"]
    window.model.selection.remove("dense/kernel")
    assert list(window.views.views) == ["conv2d/kernel", "dense_1/bias"]
    assert not items["dense/kernel"].isSelected()


def click_pixel(qtbot, view, row, col):
    """A real mouse click on the centre of heatmap pixel (row, col)."""
    vb = view.heatmap.plot.vb
    scene = vb.mapViewToScene(QPointF(col + 0.2, row - 0.2))
    widget_pos = view.graphics.mapFromScene(scene)
    qtbot.mouseClick(view.graphics.viewport(), Qt.LeftButton, pos=widget_pos)
    return widget_pos


def test_click_weight_shows_its_trajectory_and_hover(qtbot, window, recording):
    window.open_file(recording)
    window.model.selection.set_names(["dense/kernel"])
    view = window.views.views["dense/kernel"]
    qtbot.waitUntil(lambda: view.shown_index == 0, timeout=WAIT_MS)
    qtbot.wait(50)  # let the plots lay out before mapping pixels to the screen
    with qtbot.waitSignal(view.trajectories_shown, timeout=WAIT_MS):
        pos = click_pixel(qtbot, view, 5, 7)
    assert window.model.selection.picked("dense/kernel") == [(5, 7)]
    qtbot.waitUntil(lambda: (5, 7) in view.trajectories.curves, timeout=WAIT_MS)
    x, y = view.trajectories.curves[(5, 7)].getData()
    expected = window.model.recording.read_element("dense/kernel", (5, 7))
    np.testing.assert_allclose(y, expected)
    assert len(x) == 121
    qtbot.mouseMove(view.graphics.viewport(), pos=pos + QPoint(1, 1))
    qtbot.waitUntil(lambda: view.hover.text().startswith("dense/kernel[5, 7] = "),
                    timeout=WAIT_MS)
    value = float(view.hover.text().split("= ")[1])
    assert value == pytest.approx(float(window.model.recording.read("dense/kernel", 0)[5, 7]),
                                  rel=1e-5)
    click_pixel(qtbot, view, 5, 7)  # a second click removes it again
    assert window.model.selection.picked("dense/kernel") == []
    assert (5, 7) not in view.trajectories.curves


def test_small_variable_shows_every_weight_over_time(qtbot, window, recording):
    window.open_file(recording)
    window.model.selection.set_names(["conv2d/bias"])
    view = window.views.views["conv2d/bias"]
    qtbot.waitUntil(lambda: len(view.trajectories.background) == 8, timeout=WAIT_MS)
    hover = view.trajectories.hover_text(50, 1e9)
    assert hover.startswith("conv2d/bias[") and "at step 50" in hover


def test_colour_scale_fixed_over_run_or_per_step(qtbot, window, recording):
    window.insight.scale_actions["fixed"].trigger()
    view = open_and_wait(qtbot, window, recording, step=0)
    run_levels = view.heatmap.levels
    window.model.dims.set_index(120)
    qtbot.waitUntil(lambda: view.shown_index == 120, timeout=WAIT_MS)
    assert view.heatmap.levels == run_levels
    assert run_levels[0] == -run_levels[1]  # centred at zero
    with qtbot.waitSignal(view.frame_shown, timeout=WAIT_MS):  # recoloured off the GUI thread
        window.insight.scale_actions["step"].trigger()
    assert window.model.color_mode == "step"
    step_levels = view.heatmap.levels
    assert step_levels[1] != run_levels[1] and step_levels[0] == -step_levels[1]
    assert view.heatmap.bar.levels() == step_levels
    assert view.heatmap.image.qimage == colorize(view.heatmap.values, step_levels[1])
    qtbot.waitUntil(lambda: view.hist_shown_index == 120, timeout=WAIT_MS)
    step_edges = view.hist_edges.copy()  # per step: bins from the step's colour scale
    assert step_edges[0] == step_levels[0] and step_edges[-1] == step_levels[1]
    window.insight.scale_actions["fixed"].trigger()
    qtbot.waitUntil(lambda: view.hist_shown_index == 120, timeout=WAIT_MS)
    edges = view.hist_edges.copy()
    assert edges[-1] != step_edges[-1]
    window.model.dims.set_index(10)
    qtbot.waitUntil(lambda: view.hist_shown_index == 10, timeout=WAIT_MS)
    np.testing.assert_array_equal(view.hist_edges, edges)  # bins fixed over the run


def test_drop_a_file_opens_it(qtbot, window, recording):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(recording)])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    assert window.model.recording.path == recording
    assert window.views.views


def write_bad_files(folder):
    (folder / "empty.h5").write_bytes(b"")
    (folder / "random.h5").write_bytes(np.random.default_rng(0).bytes(5000))
    with h5py.File(folder / "other.h5", "w") as f:
        f["x"] = np.arange(3)
    return {"empty.h5": "empty", "random.h5": "not an HDF5 file",
            "other.h5": "not a weightreel recording"}


def test_bad_files_get_a_dialog_and_the_window_keeps_working(qtbot, window, recording, tmp_path):
    for name, words in write_bad_files(tmp_path).items():
        assert not window.open_file(str(tmp_path / name))
        box = window.reporter.open_dialogs[-1]
        assert box.isVisible() and words in box.text() and name in box.text()
        assert "Traceback" not in box.text() and "\n" not in box.text()
        box.close()
    assert not window.model.recording.is_open
    open_and_wait(qtbot, window, recording)


def test_excepthook_reports_one_line(qtbot, window, capsys):
    window.reporter.dialogs = False
    try:
        raise ValueError("boom\nsecond line")
    except ValueError as exc:
        window.reporter.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error: ValueError: boom second line" in err[0]
    assert "boom" in window.statusBar().currentMessage()


GROW = '''
import sys, time
import numpy as np
from weightreel.formats import RecordingWriter
path, start, stop, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
with RecordingWriter(path, mode="a", commit_interval=0.05) as writer:
    for k in range(start, stop):
        writer.append({"w": np.full((4, 5), k, np.float32), "b": np.full(5, -k, np.float32)},
                      scalars={"loss": 1 / (k + 1)})
        time.sleep(delay)
'''


def grow(path, start, stop, delay):
    """A writer in another process, as in real training: returns the running process."""
    return subprocess.Popen([sys.executable, "-c", GROW, path, str(start), str(stop), str(delay)])


def test_follow_a_growing_file_then_it_turns_bad(qtbot, window, tmp_path):
    path = str(tmp_path / "live.h5")
    assert grow(path, 0, 3, 0).wait() == 0
    window.timeline.follow.setChecked(True)
    assert window.model.playback.follow and window.follow_action.isChecked()
    window.open_file(path)
    view = window.views.views["w"]
    writer = grow(path, 3, 30, 0.03)
    try:
        qtbot.waitUntil(lambda: 3 < window.model.dims.num_steps < 30, timeout=10000)
        assert "live" in window.file_label.text()
        qtbot.waitUntil(lambda: window.model.dims.num_steps == 30, timeout=10000)
    finally:
        assert writer.wait(10) == 0
    assert window.model.dims.index == 29
    qtbot.waitUntil(lambda: view.shown_index == 29, timeout=WAIT_MS)
    assert view.heatmap.values[0, 0] == 29
    assert "30 steps" in window.file_label.text()
    with open(path, "r+b") as fh:  # cut the file short under the viewer
        fh.truncate(1000)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    assert "live.h5" in window.banner.text() and "last good state" in window.banner.text()
    assert view.heatmap.values[0, 0] == 29  # still on screen
    assert window.model.dims.num_steps == 30


def test_a_step_read_after_the_file_was_cut_is_never_shown(qtbot, window, tmp_path):
    """HDF5 reads past the end of a file as zeros: such a read must not reach the screen."""
    path = str(tmp_path / "cut.h5")
    assert grow(path, 0, 30, 0).wait() == 0
    view = open_and_wait(qtbot, window, path, step=29)
    assert view.heatmap.values[0, 0] == 29
    window.poll.stop()  # no refresh notices the cut before the next read
    with open(path, "r+b") as fh:
        fh.truncate(1000)
    window.model.dims.set_index(10)
    qtbot.waitUntil(lambda: window.loader.idle, timeout=WAIT_MS)
    assert view.shown_index == 29 and view.heatmap.values[0, 0] == 29
    assert not window.model.recording.refresh()
    assert window.banner.isVisible() and "last good state" in window.banner.text()
    assert view.heatmap.values[0, 0] == 29
