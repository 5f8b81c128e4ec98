"""Entry points of the desktop viewer: launch() for `weightreel view`, and headless screenshots.

Qt is imported inside functions only, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import sys
import time

SCREENSHOT_SIZE = (1500, 900)
READY_TIMEOUT_S = 20.0


def _want_offscreen(screenshot: str | None) -> None:
    headless = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    if screenshot and headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def application():
    """The QApplication (created once), with the viewer's look; the one this makes prints
    none of Qt's harmless warnings (see _qt/messages.py)."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QApplication

    from ._qt import messages, style

    app = QApplication.instance()
    if app is None:  # before it starts: Qt warns as it starts
        messages.private_runtime_dir()
        messages.install()
        QApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("weightreel")
        app.setOrganizationName("weightreel")
        app.setStyle("Fusion")
    style.configure()
    return app


def launch(path: str | None, step: int | None = None, screenshot: str | None = None,
           follow: bool = False, variables: list[str] | None = None,
           options: dict | None = None, checked: bool = False) -> int:
    """Open the viewer on `path` (or empty) and run until closed; returns the exit code.

    With `screenshot`, render the window offscreen at global step `step` (None: the last
    recorded step, the trained weights) into that PNG and exit: 0 on success, 2 (and one line
    on stderr) if the file cannot be shown. Opened in the window, a file starts at `step`, or
    at the first step (ready to replay the training) when None. `options`: `scale`,
    `symlog`, `mode` (see ViewerModel) and `overview` (a screenshot of the layer overview).
    """
    _want_offscreen(screenshot)
    app = application()
    from ._qt.errors import ErrorReporter
    from ._qt.main_window import MainWindow

    reporter = ErrorReporter(dialogs=screenshot is None)
    reporter.install()
    window = MainWindow(reporter=reporter, restore=screenshot is None)
    window.model.playback.set_follow(follow)
    options = dict(options or {})
    overview = options.pop("overview", False)
    _apply(window.model, options)
    if screenshot is not None:
        return _screenshot(app, window, path, step, screenshot, variables, overview)
    if path is not None:
        window.open_file(path, step, checked=checked)
        _select(window, variables)
    window.show()
    return int(app.exec_())


def _select(window, variables: list[str] | None) -> None:
    if variables:
        window.model.selection.set_names(variables)


def _apply(model, options: dict) -> None:
    if options.get("scale"):
        model.set_color_mode(options["scale"])
    model.set_symlog(bool(options.get("symlog")))
    if options.get("mode"):
        model.set_mode(options["mode"])


def _screenshot(app, window, path, step, out, variables, overview=False) -> int:
    from weightreel.formats import RecordingError

    if path is None:
        print("weightreel: --screenshot needs a recording file", file=sys.stderr)
        return 2
    try:
        window.loader.reset()
        window.model.open(path, step)
        if step is None:
            window.model.dims.go_last()
        unknown = [v for v in variables or [] if v not in window.model.recording.rec.variables]
        if unknown:
            raise RecordingError(path, f"has no variable {unknown[0]!r}")
    except RecordingError as exc:
        print(f"weightreel: {exc}", file=sys.stderr)
        return 2
    _select(window, variables)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    ok = wait_until_ready(app, window)
    if overview:
        ok = _overview_ready(app, window)
    if not save_png(window.insight.overview if overview else window, out):
        print(f"weightreel: cannot write screenshot {out}", file=sys.stderr)
        return 2
    window.close()
    if not ok:
        print("weightreel: screenshot taken before every view finished loading",
              file=sys.stderr)
    return 0 if ok else 1


def wait_until_ready(app, window, timeout: float = READY_TIMEOUT_S) -> bool:
    """Process events until every view shows the current step (with its throttled statistics
    and histogram) and the loader is idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        views = window.views.views.values()
        if window.loader.idle and all(v.is_ready() for v in views):
            for _ in range(3):
                app.processEvents()
            return True
        time.sleep(0.005)
    return False


def _overview_ready(app, window, timeout: float = READY_TIMEOUT_S) -> bool:
    """Show the layer overview alone, at the screenshot's size, once its norms are in."""
    dock = window.insight.dock
    dock.setFloating(True)
    dock.show()
    dock.resize(SCREENSHOT_SIZE[0], min(SCREENSHOT_SIZE[1], 200 + 40 * len(
        window.model.recording.rec.variable_names)))
    overview = window.insight.overview
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if overview.values is not None and overview.rows >= window.model.recording.num_steps:
            for _ in range(3):
                app.processEvents()
            return True
        time.sleep(0.005)
    return False


def save_png(window, out: str) -> bool:
    pixmap = window.grab()
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    return bool(pixmap.save(out, "PNG"))
