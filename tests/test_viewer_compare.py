"""`weightreel view A.h5 B.h5`: two real Keras runs that differ in learning rate, compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import assert_one_line_error

from weightreel.viewer.app import application
from weightreel.viewer.components.compare import Comparison, match_steps, match_variables
from weightreel.viewer.synthetic import write_synthetic

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
A, B = SAMPLES / "digits_mlp.h5", SAMPLES / "diverging_mlp.h5"  # lr 0.01 vs 0.05 growing


def test_variables_match_with_or_without_the_model_name():
    m = match_variables(["mlp/dense/kernel", "mlp/dense/bias", "mlp/extra/w"],
                        ["net/dense/kernel", "net/dense/bias", "net/other/w"])
    assert m.pairs == [("mlp/dense/kernel", "net/dense/kernel"),
                       ("mlp/dense/bias", "net/dense/bias")]
    assert m.only_a == ["mlp/extra/w"] and m.only_b == ["net/other/w"]
    assert match_variables(["x/k", "y/k"], ["z/k"]).pairs == []  # ambiguous: not guessed


def test_steps_match_by_global_step_and_missing_ones_stay_missing():
    np.testing.assert_array_equal(match_steps([0, 2, 4, 6], [0, 1, 2, 3, 6]), [0, 2, -1, 4])
    np.testing.assert_array_equal(match_steps([5], []), [-1])


@pytest.fixture
def window(qtbot):
    from weightreel.viewer._qt.compare_window import CompareWindow

    application()
    win = CompareWindow(Comparison(A, B), (A.name, B.name))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_a_b_and_the_difference_on_one_scale(qtbot, window):
    c = window.comparison
    assert [p[0].split("/", 1)[1] for p in c.matching.pairs] == [
        "hidden/kernel", "hidden/bias", "output/kernel", "output/bias"]
    window.select(c.matching.pairs[0])
    window.set_index(100)
    a = np.asarray(c.a.read("digits_mlp/hidden/kernel", 100))
    b = np.asarray(c.b.read("diverging_mlp/hidden/kernel", int(c.b_index[100])))
    assert int(c.steps_a[100]) == int(c.steps_b[c.b_index[100]])  # the same global step
    images = [item.image for item in window.items]
    np.testing.assert_array_equal(images[0], a)
    np.testing.assert_array_equal(images[1], b)
    np.testing.assert_allclose(images[2], a - b, rtol=1e-6)
    levels = {tuple(np.round(item.getLevels(), 6)) for item in window.items}
    assert len(levels) == 1  # one shared colour scale


def test_a_step_missing_in_b_is_shown_missing(qtbot, window):
    last_b = int(window.comparison.steps_b[-1])
    index = int(np.flatnonzero(window.comparison.steps_a > last_b)[0])  # B (shorter) ended
    window.set_index(index)
    assert "missing in B" in window.readout.text()
    assert np.isnan(window.items[1].image).all()


def test_curves_of_both_runs_are_overlaid(qtbot, window):
    names = {item.name() for item in window.loss_plot.listDataItems()}
    assert names == {f"A: {A.name}", f"B: {B.name}"}
    assert len(window.norm_plot.listDataItems()) == 2


def test_variables_in_one_file_only_are_listed(qtbot, tmp_path):
    from weightreel.viewer._qt.compare_window import CompareWindow

    shapes = {"d/kernel": ((4, 3), "Dense", "kernel"), "d/bias": ((3,), "Dense", "bias")}
    a = write_synthetic(tmp_path / "a.h5", steps=6, shapes=shapes)
    b = write_synthetic(tmp_path / "b.h5", steps=9, shapes={
        **shapes, "e/kernel": ((3, 2), "Dense", "kernel")})
    application()
    win = CompareWindow(Comparison(a, b), ("a.h5", "b.h5"))
    qtbot.addWidget(win)
    assert win.only_in_one() == ["e/kernel — only in B (b.h5)"]
    win.close()


def test_the_command_renders_a_comparison_and_rejects_a_bad_second_file(tmp_path):
    out = tmp_path / "cmp.png"
    cli = [sys.executable, "-m", "weightreel.viewer.cli", "view", str(A)]
    result = subprocess.run([*cli, str(B), "--step", "100", "--screenshot", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 10_000
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    result = subprocess.run([*cli, str(tmp_path / "bad.h5"), "--screenshot", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 2, "bad.h5")


def test_a_live_run_growing_is_picked_up(qtbot, tmp_path):
    from weightreel.formats import RecordingWriter, VariableSpec
    from weightreel.viewer._qt.compare_window import CompareWindow

    a = write_synthetic(tmp_path / "a.h5", steps=8, shapes={"d/w": ((2, 2), "Dense", "kernel")})
    writer = RecordingWriter(tmp_path / "b.h5")
    writer.declare("d/w", VariableSpec((2, 2)))
    writer.append({"d/w": np.zeros((2, 2), np.float32)}, step=0)
    writer.commit()
    application()
    win = CompareWindow(Comparison(a, tmp_path / "b.h5"), ("a.h5", "b.h5"))
    qtbot.addWidget(win)
    win.set_index(3)
    assert "missing in B" in win.readout.text()
    for step in (1, 2, 3):
        writer.append({"d/w": np.full((2, 2), step, np.float32)}, step=step)
    writer.commit()
    win.refresh()
    win.set_index(3)
    assert "missing" not in win.readout.text()
    np.testing.assert_array_equal(win.items[1].image, np.full((2, 2), 3, np.float32))
    writer.close()
    win.close()


def test_file_compare_with_opens_the_comparison(qtbot, tmp_path, monkeypatch):
    from viewer_window import main_window

    with main_window(qtbot, tmp_path, monkeypatch) as win:
        assert win.compare_with(str(B)) is None  # nothing open yet: reported, no window
        assert win.open_file(str(A))
        compare = win.compare_with(str(B))
        qtbot.addWidget(compare)
        assert compare.isVisible() and len(compare.comparison.matching.pairs) == 4
        assert win.compare_with(str(tmp_path / "missing.h5")) is None
        compare.close()
