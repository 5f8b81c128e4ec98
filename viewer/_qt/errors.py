"""ErrorReporter: every failure becomes one line (stderr, status bar) and, if wanted, a dialog."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QMessageBox, QWidget

LOG_PATH = Path(tempfile.gettempdir()) / "weightreel-viewer.log"


class ErrorReporter(QObject):
    """Reports errors to the user without ever letting a traceback reach them.

    `dialogs=False` (headless and screenshot runs) keeps to the one line on stderr.
    """

    reported = pyqtSignal(str)

    def __init__(self, dialogs: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dialogs = dialogs
        self.messages: list[str] = []
        self.parent_widget: QWidget | None = None
        self._boxes: list[QMessageBox] = []

    def report(self, message: str, title: str = "weightreel") -> None:
        line = " ".join(str(message).split())
        self.messages.append(line)
        print(f"weightreel: {line}", file=sys.stderr, flush=True)
        self.reported.emit(line)
        if self.dialogs:
            self._show(title, line)

    def _show(self, title: str, line: str) -> None:
        box = QMessageBox(QMessageBox.Warning, title, line, QMessageBox.Ok, self.parent_widget)
        box.setObjectName("weightreel-error")
        box.setTextFormat(Qt.PlainText)  # messages quote names from the file
        box.finished.connect(lambda _=0, b=box: self._forget(b))
        self._boxes.append(box)
        box.open()  # not exec_(): never block the event loop (live polling, tests)

    def _forget(self, box: QMessageBox) -> None:
        if box in self._boxes:
            self._boxes.remove(box)
        box.deleteLater()

    @property
    def open_dialogs(self) -> list[QMessageBox]:
        return list(self._boxes)

    def excepthook(self, exc_type, exc, tb) -> None:
        """sys.excepthook: log the traceback to a file, report one line."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            with open(LOG_PATH, "a", encoding="utf-8") as fh:
                fh.write("".join(traceback.format_exception(exc_type, exc, tb)) + "\n")
            where = f" (details in {LOG_PATH})"
        except OSError:
            where = ""
        self.report(f"internal error: {exc_type.__name__}: {exc}{where}")

    def install(self) -> None:
        sys.excepthook = self.excepthook
