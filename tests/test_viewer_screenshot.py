"""`python -m weightreel.viewer FILE --step K --screenshot OUT.png`, headless, as users run it."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PyQt5.QtGui import QImage

from weightreel.viewer.synthetic import write_synthetic


def run_viewer(*args, tmp_path):
    env = dict(os.environ, WEIGHTREEL_VIEWER_SETTINGS=str(tmp_path / "settings.ini"))
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)  # the viewer must choose offscreen by itself
    env.pop("XDG_RUNTIME_DIR", None)  # as in containers: Qt must not complain about it
    return subprocess.run([sys.executable, "-m", "weightreel.viewer", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def pixels(path):
    image = QImage(str(path)).convertToFormat(QImage.Format_RGB888)
    assert not image.isNull()
    ptr = image.constBits()
    ptr.setsize(image.byteCount())
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("shot") / "run.h5", steps=60)


def test_screenshot_renders_the_chosen_step(recording, tmp_path):
    out0, out60, default = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    for out, step in ((out0, ["--step", "0"]), (out60, ["--step", "60"]), (default, [])):
        done = run_viewer(recording, *step, "--screenshot", str(out),
                          "--var", "conv2d/kernel", "--var", "dense/kernel", tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""  # no Qt noise on success
    a, b = pixels(out0), pixels(out60)
    np.testing.assert_array_equal(pixels(default), b)  # no --step: the last (trained) step
    assert a.shape == b.shape and a.shape[0] > 500 and a.shape[1] > 1000
    assert a.std() > 20  # not blank
    colours = np.unique(a.reshape(-1, 3), axis=0)
    assert len(colours) > 200  # heatmaps, plots and text, not one flat fill
    assert (a != b).any(axis=2).mean() > 0.01  # another step shows other weights


def test_screenshot_of_a_bad_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "random.h5"
    bad.write_bytes(np.random.default_rng(1).bytes(4096))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    for path, words in ((bad, "not an HDF5 file"), (other, "not a weightreel recording"),
                        (tmp_path / "missing.h5", "no such file")):
        out = tmp_path / "out.png"
        done = run_viewer(str(path), "--screenshot", str(out), tmp_path=tmp_path)
        assert done.returncode == 2
        lines = [line for line in done.stderr.splitlines() if line.startswith("weightreel:")]
        assert len(lines) == 1 and words in lines[0] and str(path.name) in lines[0]
        assert "Traceback" not in done.stderr
        assert not out.exists()


def test_launch_in_process_returns_exit_code(recording, tmp_path, monkeypatch):
    from weightreel.viewer.app import launch

    monkeypatch.setenv("WEIGHTREEL_VIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    out = tmp_path / "in_process.png"
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # launch() installs its own
    assert launch(recording, step=30, screenshot=str(out)) == 0
    assert pixels(out).std() > 20
    assert launch(str(tmp_path / "nope.h5"), screenshot=str(out)) == 2
