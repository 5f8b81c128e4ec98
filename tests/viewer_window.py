"""The viewer's main window for widget tests: offscreen, with a settings file of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from weightreel.viewer._qt.errors import ErrorReporter
from weightreel.viewer._qt.main_window import MainWindow
from weightreel.viewer._qt.settings import SETTINGS_ENV
from weightreel.viewer.app import application


@contextlib.contextmanager
def main_window(qtbot, tmp_path, monkeypatch, size: tuple[int, int] | None = (1200, 800),
                dialogs: bool = False) -> Iterator[MainWindow]:
    """A shown MainWindow; `size=None` keeps the window's default size."""
    monkeypatch.setenv(SETTINGS_ENV, str(tmp_path / "settings.ini"))
    application()
    win = MainWindow(reporter=ErrorReporter(dialogs=dialogs))
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
    win.show()
    try:
        yield win
    finally:
        for box in win.reporter.open_dialogs:
            box.close()
        win.close()
