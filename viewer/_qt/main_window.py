"""MainWindow: menus, docks, status bar, shortcuts, drag and drop, live polling, settings."""

from __future__ import annotations

import os

from PyQt5.QtCore import QSettings, Qt, QTimer
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QShortcut,
    QVBoxLayout,
    QWidget,
)

from weightreel.formats import RecordingError

from ..components import ViewerModel
from . import settings as st
from .checking import check_responsively
from .errors import ErrorReporter
from .image_shape import ask_image_shape
from .insight_menu import InsightActions
from .loader import FrameLoader
from .plain import plain_tip
from .playback_driver import PlaybackDriver
from .screen_fit import default_size
from .timeline import TimelineWidget
from .variables_panel import VariablesPanel
from .views_area import ViewsArea

POLL_MS = 500
FILE_FILTER = "weightreel recordings (*.h5 *.hdf5 *.wr);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, model: ViewerModel | None = None, reporter: ErrorReporter | None = None,
                 settings: QSettings | None = None, restore: bool = True) -> None:
        super().__init__()
        self.model = model or ViewerModel()
        self.reporter = reporter or ErrorReporter()
        self.reporter.parent_widget = self
        self.settings = settings or st.make_settings()
        self.loader = FrameLoader(self.model.recording, parent=self)
        self.driver = PlaybackDriver(self.model.playback, self.model.dims, self)
        self.setWindowTitle("weightreel")
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_menus()
        self._build_shortcuts()
        self._connect()
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.model.recording.refresh)
        if restore:
            self._restore()

    # ------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.banner = QLabel()
        self.banner.setTextFormat(Qt.PlainText)  # messages hold file text
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fdecea; color:#8a1c12; padding:6px;")
        self.banner.hide()
        self.views = ViewsArea(self.model, self.loader)
        self.timeline = TimelineWidget(self.model)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.variables = VariablesPanel(self.model)
        dock = QDockWidget("Variables", self)
        dock.setObjectName("variables-dock")
        dock.setWidget(self.variables)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [300], Qt.Horizontal)
        self.file_label = QLabel("no file")
        self.file_label.setTextFormat(Qt.PlainText)
        self.statusBar().addPermanentWidget(self.file_label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Compare &with…", self.compare_dialog)
        self._action(file_menu, "&Close", self.close_file, QKeySequence.Close)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)
        view = self.menuBar().addMenu("&View")
        self.insight = InsightActions(self, view)  # scale, modes, layer overview
        self.fields_action = self._action(view, "Show Dense inputs as &images",
                                          self.model.set_dense_as_images)
        self.fields_action.setCheckable(True)
        self.fields_action.setChecked(self.model.dense_as_images)
        self.fields_action.setToolTip("Show every Dense kernel whose inputs form an image (e.g. "
                                      "64 = 8×8) as one input image per unit: receptive fields. "
                                      "Off, only Dense layers the model config shows are fed "
                                      "an image are")
        self._action(view, "Input image s&hape…", self._ask_image_shape)
        self.follow_action = self._action(view, "&Follow newest step",
                                          self.model.playback.set_follow, "F")
        self.follow_action.setCheckable(True)
        self.loop_action = self._action(view, "&Loop playback", self.model.playback.set_loop, "L")
        self.loop_action.setCheckable(True)
        self.nan_action = self._action(view, "Jump to first &NaN/Inf", self.jump_to_nonfinite, "N")
        self._rebuild_recent()

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def jump_to_nonfinite(self) -> None:
        if not self.model.jump_to_first_nonfinite():
            self.statusBar().showMessage("No NaN or Inf in this recording", 5000)

    def _build_shortcuts(self) -> None:
        d, p = self.model.dims, self.model.playback
        keys = {
            "Space": p.toggle, "Right": lambda: d.step_by(1), "Left": lambda: d.step_by(-1),
            "Shift+Right": lambda: d.step_by(10), "Shift+Left": lambda: d.step_by(-10),
            "Home": d.first, "End": d.go_last, "PgDown": d.next_epoch, "PgUp": d.previous_epoch,
        }
        self.shortcuts = []
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            self.shortcuts.append(shortcut)

    def _connect(self) -> None:
        m = self.model
        m.recording.opened.connect(self._on_opened)
        m.recording.grown.connect(lambda _n: self._update_status())
        m.recording.failed.connect(self._on_failed)
        m.recording.reopened.connect(lambda _p: self.banner.hide())  # readable again
        m.recording.closed.connect(self._on_closed)
        m.playback.changed.connect(self._on_playback)
        m.options_changed.connect(self._on_option)
        self.loader.failed.connect(self._on_failed)
        self.reporter.reported.connect(lambda line: self.statusBar().showMessage(line, 10000))

    # ------------------------------------------------------------ files
    def open_file(self, path: str, step: int | None = None, checked: bool = False) -> bool:
        """Open a recording; a bad file is reported (dialog), and False returned.

        A file is untrusted input: unless `checked` (the command line checked it already), its
        first reads run in a child process first, so that a file that hangs or crashes the HDF5
        library gives an error here instead of taking the viewer with it."""
        try:
            if not checked:
                self.statusBar().showMessage(f"Checking {os.path.basename(path)}…")
                check_responsively(path)
                self.statusBar().clearMessage()
            self.loader.reset()
            self.model.open(path, step)
        except RecordingError as exc:
            self.reporter.report(str(exc), "Cannot open recording")
            return False
        return True

    def open_dialog(self) -> None:
        start = os.path.dirname(self.model.recording.path or "") or os.getcwd()
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", start, FILE_FILTER)
        if path:
            self.open_file(path)

    def compare_dialog(self) -> None:
        """Open a second recording in a comparison window, the open one as A."""
        start = os.path.dirname(self.model.recording.path or "") or os.getcwd()
        other, _ = QFileDialog.getOpenFileName(self, "Compare with", start, FILE_FILTER)
        if other:
            self.compare_with(other)

    def compare_with(self, other: str):
        """A CompareWindow of the open recording (A) and `other` (B), or None (reported)."""
        from ..components.compare import Comparison
        from .compare_window import CompareWindow

        if self.model.recording.path is None:
            self.statusBar().showMessage("Open a recording first, then compare it", 10000)
            return None
        try:
            check_responsively(other)  # B is untrusted input too (A was checked when opened)
            comparison = Comparison(self.model.recording.path, other)
        except RecordingError as exc:
            self.reporter.report(str(exc), "Cannot compare")
            return None
        names = (os.path.basename(self.model.recording.path), os.path.basename(other))
        self.compare_window = CompareWindow(comparison, names)
        self.compare_window.show()
        return self.compare_window

    def close_file(self) -> None:
        self.poll.stop()
        self.loader.reset()
        self.model.recording.close()

    def _on_opened(self, path: str) -> None:
        self.banner.hide()
        self.setWindowTitle(f"{os.path.basename(path)} — weightreel")
        st.add_recent(self.settings, path)
        self._rebuild_recent()
        self._update_status()
        self.poll.start()

    def _on_closed(self) -> None:
        self.setWindowTitle("weightreel")
        self.file_label.setText("no file")

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = st.recent_files(self.settings)
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(files))

    def _update_status(self) -> None:
        rec = self.model.recording
        if not rec.is_open:
            return
        try:
            size = _human_size(rec.rec.file_size)
        except OSError:
            size = "?"
        state = "finished" if rec.rec.finished else "live / unfinished"
        self.file_label.setText(
            f"{os.path.basename(rec.path)} · {size} · {rec.num_steps:,} steps · {state}")
        self.file_label.setToolTip(plain_tip(rec.path))

    def _on_failed(self, message: str) -> None:
        self.banner.setText(f"⚠ {message} — showing the last good state.")
        self.banner.show()
        self.statusBar().showMessage(message)

    def _on_playback(self, name: str) -> None:
        p = self.model.playback
        self.loader.direction = p.direction if p.playing else 0
        self.follow_action.setChecked(p.follow)
        self.loop_action.setChecked(p.loop)
        if name == "follow" and p.follow:
            self.model.dims.go_last()

    def _on_option(self, name: str) -> None:
        self.fields_action.setChecked(self.model.dense_as_images)

    def _ask_image_shape(self) -> None:
        problem = ask_image_shape(self, self.model)
        if problem:
            self.statusBar().showMessage(problem, 10000)

    # ------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    # ------------------------------------------------------------ settings
    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*default_size(self))
        state = self.settings.value("state")
        if state is not None:
            self.restoreState(state)
        speed = self.settings.value("speed")
        if speed is not None:
            self.model.playback.set_speed(float(speed))

    def save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("speed", self.model.playback.speed)
        self.settings.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.save_settings()
        self.poll.stop()
        self.model.playback.set_playing(False)
        self.loader.shutdown()
        self.model.recording.close()
        super().closeEvent(event)


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
