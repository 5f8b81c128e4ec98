"""View ▸ Input image shape…: the (height, width) Dense inputs are shown as, asked in a dialog."""

from __future__ import annotations

import re

from PyQt5.QtWidgets import QInputDialog, QWidget

from ..components import ViewerModel

_SHAPE = re.compile(r"^\s*(\d+)\s*[x×,* ]\s*(\d+)\s*$")


def parse_image_shape(text: str) -> tuple[int, int] | None:
    """'28x28', '28×28' or '28, 28' → (28, 28); '' → None (square inputs only). Raises
    ValueError on anything else."""
    if not text.strip():
        return None
    match = _SHAPE.match(text)
    if match is None or 0 in (int(match.group(1)), int(match.group(2))):
        raise ValueError(f"not an image shape: {text!r} (write it as HEIGHTxWIDTH, e.g. 28x28)")
    return int(match.group(1)), int(match.group(2))


def ask_image_shape(parent: QWidget, model: ViewerModel) -> str | None:
    """Ask for the input image shape and set it (it also turns Dense inputs as images on).
    Returns an error line for a shape that cannot be read, else None."""
    current = model.input_image_shape
    text, ok = QInputDialog.getText(
        parent, "Input image shape",
        "Show Dense inputs as images of HEIGHTxWIDTH pixels (empty: square ones):",
        text=f"{current[0]}x{current[1]}" if current else "")
    if not ok:
        return None
    try:
        shape = parse_image_shape(text)
    except ValueError as exc:
        return str(exc)
    model.set_input_image_shape(shape)
    model.set_dense_as_images(True)
    return None
