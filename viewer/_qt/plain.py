"""Text from a recording shown as text: a file is untrusted input, never HTML to render."""

from __future__ import annotations

import html

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel


def plain_label(text: str = "") -> QLabel:
    """A QLabel that never interprets its text as rich text (Qt's default guesses)."""
    label = QLabel()
    label.setTextFormat(Qt.PlainText)
    label.setText(text)
    return label


def plain_tip(text: str) -> str:
    """A tooltip showing `text` literally (Qt renders tooltips that look like HTML)."""
    return "<span style='white-space:pre'>" + html.escape(text) + "</span>"


def axis_text(text: str) -> str:
    """Text for a pyqtgraph axis label or plot title, which are HTML: escaped."""
    return html.escape(text)
