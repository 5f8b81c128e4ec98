"""Qt's harmless messages are dropped, serious ones kept; Qt gets a private runtime dir."""

import os
import stat

from PyQt5.QtCore import QtCriticalMsg, QtDebugMsg, QtWarningMsg

from weightreel.viewer._qt import errors, messages


def test_harmless_qt_warnings_are_dropped_and_criticals_kept(capfd, tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "LOG_PATH", tmp_path / "viewer.log")
    messages.handle(QtWarningMsg, None, "This plugin does not support propagateSizeHints()")
    messages.handle(QtWarningMsg, None, "QStandardPaths: XDG_RUNTIME_DIR not set, defaulting "
                                        "to '/tmp/runtime-root'")
    assert capfd.readouterr().err == ""
    messages.handle(QtWarningMsg, None, "QPainter::begin: something new")  # unknown: kept
    messages.handle(QtDebugMsg, None, "a debug line")
    messages.handle(QtCriticalMsg, None, "does not support propagateSizeHints() but critical")
    err = capfd.readouterr().err.splitlines()
    assert err == ["QPainter::begin: something new", "a debug line",
                   "Qt: does not support propagateSizeHints() but critical"]
    assert "Qt critical: does not support" in (tmp_path / "viewer.log").read_text()


def test_private_runtime_dir_only_when_none_is_set(monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/somewhere")
    assert messages.private_runtime_dir() is None
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    path = messages.private_runtime_dir()
    assert path is not None and os.environ["XDG_RUNTIME_DIR"] == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    os.rmdir(path)
