"""Checking an untrusted file without freezing the window.

`check_untrusted` runs the first reads of a file in a child process, which may take up to its
timeout on a damaged file. It runs here on a worker thread while the window keeps painting;
user input waits meanwhile, so nothing can start a second open halfway through the first.
"""

from __future__ import annotations

import threading

from PyQt5.QtCore import QEventLoop, QTimer

from weightreel.formats import check_untrusted

POLL_MS = 15


def check_responsively(path: str) -> None:
    """check_untrusted(path), raising what it raises, with Qt's event loop running meanwhile."""
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            check_untrusted(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, raised there
            outcome.append(exc)

    worker = threading.Thread(target=work, name="weightreel-check", daemon=True)
    worker.start()
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: None if worker.is_alive() else loop.quit())
    timer.start(POLL_MS)
    loop.exec_(QEventLoop.ExcludeUserInputEvents)
    timer.stop()
    worker.join()
    if outcome:
        raise outcome[0]
