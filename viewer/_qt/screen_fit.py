"""The window's first size: its preferred size, shrunk to fit the screen it opens on."""

from __future__ import annotations

from PyQt5.QtWidgets import QApplication, QWidget

PREFERRED = (1400, 860)
SCREEN_SHARE = 0.95  # of the screen's available area, leaving room for the window's frame


def default_size(window: QWidget, preferred: tuple[int, int] = PREFERRED) -> tuple[int, int]:
    """`preferred`, or less where the screen's available geometry (without task bars) is
    smaller."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return preferred
    area = screen.availableGeometry()
    return (min(preferred[0], int(area.width() * SCREEN_SHARE)),
            min(preferred[1], int(area.height() * SCREEN_SHARE)))
