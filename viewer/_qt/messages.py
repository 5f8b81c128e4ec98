"""Qt's own messages: the harmless ones dropped, criticals kept on stderr and in the log file.

Headless runs (`--screenshot`, the offscreen platform) make Qt print warnings that say nothing
to a user, such as "This plugin does not support propagateSizeHints()". `install()` drops those,
and `private_runtime_dir()` gives Qt an XDG runtime directory of its own where none is set, so
that a successful run prints nothing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

from PyQt5.QtCore import QtCriticalMsg, QtFatalMsg, qInstallMessageHandler

from . import errors

HARMLESS = (  # Qt warnings that never mean anything is wrong with what is shown
    "does not support propagateSizeHints()",  # the offscreen platform
    "does not support raise()",
    "does not support setParent()",
    "QStandardPaths: XDG_RUNTIME_DIR not set",
    "QStandardPaths: wrong permissions on runtime directory",
    "QStandardPaths: runtime directory",
)
SERIOUS = (QtCriticalMsg, QtFatalMsg)
_installed = False


def harmless(mode: int, message: str) -> bool:
    """Whether Qt's `message` (of QtMsgType `mode`) may be dropped."""
    return mode not in SERIOUS and any(text in message for text in HARMLESS)


def handle(mode: int, context, message: str) -> None:
    """The message handler: criticals and fatals go to stderr and the log file, harmless
    warnings nowhere, anything else to stderr as Qt would print it."""
    if harmless(mode, message):
        return
    line = f"Qt: {message}" if mode in SERIOUS else message
    print(line, file=sys.stderr, flush=True)
    if mode in SERIOUS:
        _log(f"Qt {'fatal' if mode == QtFatalMsg else 'critical'}: {message}")


def _log(line: str) -> None:
    try:
        with open(errors.LOG_PATH, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass


def install() -> None:
    """Route Qt's messages through `handle` (once per process)."""
    global _installed
    if not _installed:
        qInstallMessageHandler(handle)
        _installed = True


def private_runtime_dir() -> str | None:
    """Where XDG_RUNTIME_DIR is unset, point it at a fresh private (0700) temporary directory,
    removed at exit; returns the directory made, or None when one was set already."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="weightreel-runtime-")  # made with mode 0700
    os.chmod(path, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = path
    atexit.register(shutil.rmtree, path, True)
    return path
