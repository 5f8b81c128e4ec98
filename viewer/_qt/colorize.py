"""Colour mapping of a float image to a ready-to-paint QImage, done in the reader threads.

Values in [low, high] of a ColorScale map linearly onto its colour map (values outside are
clipped to its ends): the diverging one for ±limit, the sequential one for variables that keep
to one side of zero. NaN (and the gaps between tiled filters) is transparent. The QImage is
ARGB32 premultiplied, the format Qt paints fastest, so the GUI thread only draws it.

An image bigger than its place on screen is coloured at every `stride`-th row and column only,
`stride` = (rows, columns): the heatmap is drawn without smoothing (nearest pixel), so when a
screen pixel covers that many image pixels, the ones skipped would not have been drawn anyway.
"""

from __future__ import annotations

import functools

import numpy as np
from PyQt5.QtGui import QImage

from ..components import ColorScale
from . import style

LEVELS = 255  # colours 1..255; colour 0 is reserved for NaN (transparent)


@functools.cache
def colour_table(diverging: bool = True) -> tuple[int, ...]:
    """The 256 ARGB32 colours of an indexed image: transparent, then the colour map."""
    rgb = style.colormap(diverging).getLookupTable(nPts=LEVELS, alpha=False).astype(np.uint32)
    argb = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return (0, *(int(c) for c in argb))


def colour_indices(image: np.ndarray, scale: ColorScale) -> np.ndarray:
    """uint8 colour numbers: low → 1, high → 255 (±limit: 0 → 128), NaN → 0."""
    span = scale.high - scale.low
    factor = (LEVELS - 1) / span if span > 0 and np.isfinite(span) else 0.0
    x = np.multiply(image, np.float32(factor), dtype=np.float32)
    x += np.float32(1.5 - scale.low * factor)  # low → 1; + 0.5: truncation below rounds
    np.clip(x, 1, LEVELS, out=x)
    nan = np.isnan(x)
    if nan.any():
        x[nan] = 0
    return x.astype(np.uint8)


def colorize(image: np.ndarray, scale: ColorScale | float,
             stride: tuple[int, int] = (1, 1)) -> QImage:
    """A 2-D float image (every stride[0]-th row and stride[1]-th column of it) as an
    ARGB32-premultiplied QImage that owns its pixels; a number for `scale` is ±that limit."""
    if not isinstance(scale, ColorScale):
        scale = ColorScale.centred(scale)
    if stride != (1, 1):
        image = image[:: stride[0], :: stride[1]]
    index = np.ascontiguousarray(colour_indices(image, scale))
    rows, cols = index.shape
    indexed = QImage(index.data, cols, rows, cols, QImage.Format_Indexed8)
    indexed.setColorTable(list(colour_table(scale.diverging)))
    return indexed.convertToFormat(QImage.Format_ARGB32_Premultiplied)  # a deep copy


def pixel_colour(image: QImage, row: int, col: int) -> tuple[int, int, int, int]:
    """(r, g, b, alpha) of one pixel, for tests and hover."""
    c = image.pixelColor(col, row)
    return c.red(), c.green(), c.blue(), c.alpha()
