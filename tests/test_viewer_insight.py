"""Scales, modes, non-finite colours and the layer overview, on the real diverging Keras run
(samples/diverging_mlp.h5: the output layer reaches ~1e18 near step 157, NaN from ~160)."""

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PyQt5.QtCore import QPointF, Qt
from PyQt5.QtWidgets import QApplication
from viewer_window import main_window

from weightreel.formats import open_recording
from weightreel.viewer._qt.colorize import NON_FINITE, colorize, pixel_colour
from weightreel.viewer.cli import main
from weightreel.viewer.components import ColorScale

WAIT_MS = 15000
OUTPUT = "diverging_mlp/output/kernel"
HIDDEN = "diverging_mlp/hidden/kernel"


@pytest.fixture
def diverging(samples_dir):
    return str(samples_dir / "diverging_mlp.h5")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with main_window(qtbot, tmp_path, monkeypatch, size=(1300, 800)) as win:
        yield win


def show(qtbot, win, path, name, index):
    assert win.open_file(path)
    win.model.selection.set_names([name])
    win.model.dims.set_index(index)
    view = win.views.views[name]
    qtbot.waitUntil(lambda: view.shown_index == index and view.shown_frame.mode
                    == win.model.mode, timeout=WAIT_MS)
    return view


def wait_mode(qtbot, win, view, mode):
    win.model.set_mode(mode)
    qtbot.waitUntil(lambda: view.shown_frame.mode == mode, timeout=WAIT_MS)


def test_modes_show_the_change_as_numpy_computes_it(qtbot, window, diverging):
    view = show(qtbot, window, diverging, OUTPUT, 100)
    with open_recording(diverging) as rec:
        w = rec.read_range(OUTPUT, 0, 101).astype(np.float64)
    expected = {"value": w[100], "since-start": w[100] - w[0], "per-step": w[100] - w[99]}
    keys = {"since-start": "Ctrl+2", "per-step": "Ctrl+3", "value": "Ctrl+1"}
    for mode, key in keys.items():
        action = window.insight.mode_actions[mode]
        assert action.shortcut().toString() == key
        action.trigger()
        qtbot.waitUntil(lambda m=mode: view.shown_frame.mode == m, timeout=WAIT_MS)
        image = expected[mode].astype(np.float32)
        np.testing.assert_array_equal(view.heatmap.values, image)
        assert view.heatmap.image.qimage == colorize(image, view.heatmap.scale)
    assert window.model.mode == "value"


def test_nan_cells_are_magenta_and_named_in_the_legend(qtbot, window, diverging):
    view = show(qtbot, window, diverging, OUTPUT, 225)
    assert np.isnan(view.heatmap.values).all()
    image = view.heatmap.image.qimage
    assert {pixel_colour(image, r, c) for r in range(32) for c in range(10)} == {
        (*NON_FINITE["NaN"], 255)}
    legend = view.heatmap.legend.text
    assert all(name in legend for name in ("NaN", "+Inf", "−Inf"))


def test_inf_cells_and_tile_gaps_have_their_own_colours():
    from weightreel.viewer.components import ImageLayout

    values = np.zeros((2, 2, 1, 2), np.float32)
    values[0, 0, 0, 0], values[0, 1, 0, 0], values[1, 0, 0, 0] = np.inf, -np.inf, np.nan
    image = ImageLayout(values.shape).to_image(values)  # 2×5: a blank column between filters
    q = colorize(image, ColorScale.centred(1.0))
    assert pixel_colour(q, 0, 0) == (*NON_FINITE["+Inf"], 255)
    assert pixel_colour(q, 0, 1) == (*NON_FINITE["−Inf"], 255)
    assert pixel_colour(q, 1, 0) == (*NON_FINITE["NaN"], 255)
    assert pixel_colour(q, 0, 2)[3] == 0  # the gap stays transparent


def test_the_default_scale_is_readable_one_step_before_the_blow_up(qtbot, window, diverging):
    view = show(qtbot, window, diverging, HIDDEN, 156)
    assert window.model.color_mode == "robust"
    image = view.heatmap.image.qimage

    def colours():
        return {pixel_colour(image, r, c) for r in range(image.height())
                for c in range(image.width())}

    readable = len(colours())
    assert readable > 40
    row = window.model.recording.summary_row(HIDDEN, 156)
    assert -view.heatmap.levels[0] < abs(row["q0.01"]) / 100  # the tail does not set it
    window.insight.scale_actions["fixed"].trigger()  # the run's extremes: nearly flat
    qtbot.waitUntil(lambda: view.shown_frame.spec == view._scale(156), timeout=WAIT_MS)
    image = view.heatmap.image.qimage
    assert len(colours()) < readable / 2


def overview_of(qtbot, win, path):
    assert win.open_file(path)
    win.insight.overview_action.trigger()
    overview = win.insight.overview
    overview.progress_seen = overview.progress.isVisible()  # shown at once while computing
    qtbot.waitUntil(lambda: overview.values is not None
                    and overview.rows == win.model.recording.num_steps, timeout=WAIT_MS)
    return overview


def settled(qtbot, overview):
    """Wait until the dock has its size and the plot its range (the click lands on the cell)."""
    seen = []

    def same_twice():
        QApplication.processEvents()
        vb = overview.plot.vb
        seen.append((vb.sceneBoundingRect(), tuple(map(tuple, vb.viewRange()))))
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(same_twice, timeout=WAIT_MS)


def numpy_relative_updates(path):
    with open_recording(path) as rec:
        out = {}
        for name in rec.variable_names:
            rows = rec.read_range(name, 0, rec.num_steps).astype(np.float64)
            rows = rows.reshape(len(rows), -1)
            with np.errstate(all="ignore"):
                update = np.linalg.norm(np.diff(rows, axis=0), axis=1)
                norm = np.linalg.norm(rows[1:], axis=1)
                out[name] = np.log10(update / norm)
        return out


def test_overview_computes_update_norms_from_the_rows(qtbot, window, diverging):
    overview = overview_of(qtbot, window, diverging)
    assert overview.computed  # a 1.0 file: no update_norm column
    assert overview.progress_seen and not overview.progress.isVisible()
    expected = numpy_relative_updates(diverging)
    assert overview.names == list(expected)
    for k, name in enumerate(overview.names):
        np.testing.assert_allclose(overview.values[k, 1:], expected[name], rtol=1e-5,
                                   atol=1e-9)
        assert np.isnan(overview.values[k, 0])
    assert np.isnan(overview.values[:, -1]).all()  # NaN weights at the end
    settled(qtbot, overview)
    origin = overview.plot.vb.mapViewToScene(QPointF(150, 2))  # click output/kernel, row 150
    view_point = overview.graphics.mapFromScene(origin)
    qtbot.mouseClick(overview.graphics.viewport(), Qt.LeftButton, pos=view_point)
    assert window.model.selection.names == [overview.names[2]]
    assert window.model.dims.index == 150
    qtbot.waitUntil(lambda: overview.cursor.value() == 150, timeout=WAIT_MS)  # within 100 ms


def test_overview_reads_a_recorded_update_norm_column(qtbot, window, diverging, tmp_path):
    path = str(tmp_path / "with_column.h5")
    shutil.copy(diverging, path)
    expected = numpy_relative_updates(diverging)
    with h5py.File(path, "r+") as f:  # a 1.1 file's column, doubled: shows it is what is read
        for name in expected:
            ds = f[f"summaries/{name}"]
            rows, attrs = ds[...], dict(ds.attrs)
            with open_recording(diverging) as rec:
                w = rec.read_range(name, 0, rec.num_steps).astype(np.float64)
            column = np.r_[np.nan, 2 * np.linalg.norm(np.diff(w.reshape(len(w), -1), axis=0),
                                                      axis=1)]
            del f[f"summaries/{name}"]
            new = f.create_dataset(f"summaries/{name}", data=np.c_[rows, column],
                                   maxshape=(None, rows.shape[1] + 1))
            new.attrs.update(attrs)
            new.attrs["columns"] = [*attrs["columns"], "update_norm"]
    overview = overview_of(qtbot, window, path)
    assert not overview.computed and not overview.progress_seen
    for k, name in enumerate(overview.names):
        np.testing.assert_allclose(overview.values[k, 1:], expected[name] + np.log10(2),
                                   rtol=1e-5, atol=1e-9)


def test_cli_renders_the_overview_and_exports_on_a_scale(diverging, tmp_path):
    out = tmp_path / "overview.png"
    run = subprocess.run([sys.executable, "-m", "weightreel.viewer.cli", "view", diverging,
                          "--overview", "--screenshot", str(out)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 10000
    png = tmp_path / "k.png"
    assert main(["export", diverging, "--to", "png", "-o", str(png), "--variable",
                 "hidden/kernel", "--step", "156", "--scale", "step", "--symlog"]) == 0
    assert png.stat().st_size > 5000
    assert main(["view", diverging, "--overview"]) == 2  # needs --screenshot


def test_a_step_all_nan_keeps_the_last_finite_steps_scale(diverging):
    from weightreel.viewer.components.scale import QUANTILES, step_limits

    with open_recording(diverging) as rec:
        rows = np.asarray(rec.summary(OUTPUT), np.float64)
    last = int(np.nonzero(rows[:, 5] == 0)[0][-1])  # nan_count: the last step without NaN
    assert last < len(rows) - 1
    q_lo, q_hi = (rec.summary_columns.index(f"q{q:g}") for q in QUANTILES["step"])
    expected = (rows[last, q_lo], rows[last, q_hi])
    assert step_limits(rows, len(rows) - 1, "step") == expected
    assert step_limits(rows, last, "step") == expected


def test_symmetric_log_spreads_values_of_every_magnitude():
    from weightreel.viewer._qt.colorize import FIRST, colour_indices

    image = np.array([[1.0, 1e3, 1e6, -1e3]], np.float32)
    linear = colour_indices(image, ColorScale.centred(1e6))
    spread = colour_indices(image, ColorScale.centred(1e6).with_symlog(1.0))
    middle = (FIRST + 255) / 2
    assert abs(linear[0, 0] - middle) < 1 and abs(linear[0, 1] - middle) < 1  # both ~white
    assert spread[0, 0] < spread[0, 1] < spread[0, 2] == 255  # 1, 1e3, 1e6 apart
    assert spread[0, 1] - middle > 50 and middle - spread[0, 3] > 50


def test_overview_drops_norms_computed_for_a_file_since_replaced(qtbot, window, diverging,
                                                                 samples_dir):
    overview = overview_of(qtbot, window, diverging)
    old = overview._generation
    assert window.open_file(str(samples_dir / "digits_mlp.h5"))  # a new file: norms anew
    qtbot.waitUntil(lambda: overview.values is not None and overview.rows
                    == window.model.recording.num_steps, timeout=WAIT_MS)
    shown = overview.values.copy()
    stale = {name: np.ones(226) for name in ["diverging_mlp/hidden/kernel"]}
    overview._relay.done.emit(old, stale, 0)  # what a late worker of the old file would send
    QApplication.processEvents()
    np.testing.assert_array_equal(overview.values, shown)
    assert "diverging_mlp/hidden/kernel" not in overview.norms


def test_overview_of_a_file_the_writer_made_reads_its_update_norms(qtbot, window, tmp_path):
    from weightreel.formats import RecordingWriter

    path = str(tmp_path / "now.h5")
    rng = np.random.default_rng(5)
    w = rng.normal(0, 1, (6, 4)).astype(np.float32)
    with RecordingWriter(path) as writer:
        for k in range(12):
            w = w + (0 if k == 5 else rng.normal(0, 0.1, w.shape).astype(np.float32))
            writer.append({"d/kernel": w, "d/frozen": np.ones(3, np.float32)})
    with open_recording(path) as rec:
        assert "update_norm" in rec.summary_columns  # the writer records them (format 1.1)
    overview = overview_of(qtbot, window, path)
    assert not overview.computed
    expected = numpy_relative_updates(path)
    k = overview.names.index("d/kernel")
    np.testing.assert_allclose(overview.values[k, 1:], expected["d/kernel"], rtol=1e-5)
    frozen = overview.values[overview.names.index("d/frozen"), 1:]
    assert (frozen == -np.inf).all()  # never changed: drawn as frozen
