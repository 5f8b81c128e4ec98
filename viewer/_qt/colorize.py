"""Colour mapping of a float image to a ready-to-paint QImage, done in the reader threads.

Values in [low, high] of a ColorScale map linearly (or by their symmetric log, when the scale
has one) onto its colour map; values outside are clipped to its ends: the diverging map for
±limit, the sequential one for variables that keep to one side of zero. NaN, +Inf and −Inf
have colours of their own, outside both maps (NON_FINITE), so they are never blank; only the
gaps between tiled filters are transparent. The QImage is ARGB32 premultiplied, the format Qt
paints fastest, so the GUI thread only draws it.

An image bigger than its place on screen is coloured at every `stride`-th row and column only,
`stride` = (rows, columns): the heatmap is drawn without smoothing (nearest pixel), so when a
screen pixel covers that many image pixels, the ones skipped would not have been drawn anyway.
"""

from __future__ import annotations

import functools

import numpy as np
from PyQt5.QtGui import QImage

from ..components import ColorScale, gap_mask
from . import style

GAP, NAN, POS_INF, NEG_INF = 0, 1, 2, 3  # colour numbers reserved below the map
FIRST = 4  # the colour map's first colour number
LEVELS = 256 - FIRST  # colours FIRST..255
# magenta, black, cyan: none of them in either colour map
NON_FINITE = {"NaN": (255, 0, 255), "+Inf": (0, 0, 0), "−Inf": (0, 230, 255)}


@functools.cache
def colour_table(diverging: bool = True) -> tuple[int, ...]:
    """The 256 ARGB32 colours of an indexed image: transparent, NaN, +Inf, −Inf, the map."""
    rgb = style.colormap(diverging).getLookupTable(nPts=LEVELS, alpha=False).astype(np.uint32)
    argb = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    special = [0xFF000000 | (r << 16) | (g << 8) | b for r, g, b in NON_FINITE.values()]
    return (0, *special, *(int(c) for c in argb))


def colour_indices(image: np.ndarray, scale: ColorScale) -> np.ndarray:
    """uint8 colour numbers: low → FIRST, high → 255, NaN/±Inf/gaps → their own numbers."""
    low, high = scale.low, scale.high
    if scale.linthresh > 0:
        image = scale.forward(image).astype(np.float32)
        low, high = (float(v) for v in scale.forward(np.array([low, high])))
    span = high - low
    factor = (LEVELS - 1) / span if span > 0 and np.isfinite(span) else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.multiply(image, np.float32(factor), dtype=np.float32)
        x += np.float32(FIRST + 0.5 - low * factor)  # low → FIRST; + 0.5: truncation rounds
    finite = np.isfinite(x)
    np.clip(x, FIRST, 255, out=x)
    if not finite.all():
        x[np.isposinf(image)] = POS_INF
        x[np.isneginf(image)] = NEG_INF
        nan = np.isnan(image)
        x[nan] = NAN
        x[nan & gap_mask(image)] = GAP
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
