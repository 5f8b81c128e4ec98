"""Where the viewer keeps its settings (window layout, recent files)."""

from __future__ import annotations

import os

from PyQt5.QtCore import QSettings

SETTINGS_ENV = "WEIGHTREEL_VIEWER_SETTINGS"  # an .ini path; tests use a temporary one
MAX_RECENT = 10


def make_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("weightreel", "viewer")


def recent_files(settings: QSettings) -> list[str]:
    value = settings.value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def add_recent(settings: QSettings, path: str) -> list[str]:
    path = os.path.abspath(path)
    files = [path] + [p for p in recent_files(settings) if p != path]
    settings.setValue("recent", files[:MAX_RECENT])
    return files[:MAX_RECENT]
