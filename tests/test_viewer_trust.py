"""Text from a recording is shown as text in the viewer: HTML in names and attributes is never
rendered (no injected headings, links or local images)."""

import html

from hostile import RICH, base
from PyQt5.QtCore import Qt
from viewer_window import main_window

SCALAR = f"<i>{RICH}</i>"


def test_rich_text_from_a_file_is_shown_literally(qtbot, tmp_path, monkeypatch):
    path = base(tmp_path / "rich.h5", names=("dense/kernel",), scalars=(SCALAR,), layer=RICH)
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        assert win.open_file(str(path))  # the untrusted-file check runs first, then it opens
        view = next(iter(win.views.views.values()))
        assert view.title.textFormat() == Qt.PlainText
        assert RICH in view.title.text()
        axis = win.timeline.loss.getPlotItem().getAxis("left")
        assert axis.labelText == html.escape(SCALAR)  # pyqtgraph labels are HTML: escaped
        assert "<h1" not in axis.labelText
        assert win.file_label.textFormat() == Qt.PlainText
        tips = [item.toolTip(0) for item in win.variables.variable_items()]
        assert tips and all("<h1" not in tip for tip in tips)


def test_a_refused_file_is_reported_and_the_window_keeps_working(qtbot, tmp_path, monkeypatch):
    from hostile import build

    bad = build("ext_link", tmp_path)
    with main_window(qtbot, tmp_path, monkeypatch, dialogs=True) as win:
        assert not win.open_file(str(bad))
        box = win.reporter.open_dialogs[-1]
        assert "external link" in box.text() and str(bad) in box.text()
        assert box.textFormat() == Qt.PlainText
        assert not win.model.recording.is_open


def test_the_window_keeps_painting_while_a_file_is_checked(qtbot, tmp_path, monkeypatch):
    from PyQt5.QtCore import QTimer

    path = base(tmp_path / "plain.h5", names=("dense/kernel",))
    ticks = []
    with main_window(qtbot, tmp_path, monkeypatch) as win:
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(win.statusBar().currentMessage()))
        timer.start(5)
        # The check starts a child Python (a tenth of a second at least): the GUI thread's
        # timers fire meanwhile, and the status bar says what is happening.
        assert win.open_file(str(path))
        timer.stop()
        assert any(t.startswith("Checking plain.h5") for t in ticks)
        assert win.model.recording.is_open
