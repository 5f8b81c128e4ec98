"""How a variable of any rank is laid out as a 2-D image, and back from a pixel to an element."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GAP = 1  # pixels of blank (NaN) between the filters of a tiled conv kernel


@dataclass(frozen=True)
class ImageLayout:
    """Maps arrays of `shape` to images of `image_shape` (rows, columns) and pixels back.

    - 0-D and 1-D: one row.
    - 2-D: as it is (rows = first axis).
    - 4-D conv kernels (kh, kw, in, out): a grid of kh×kw filters, one row of tiles per input
      channel and one column per output channel, separated by blank gaps.
    - 3-D and 5-D+: all leading axes flattened into rows, the last axis as columns.
    """

    shape: tuple[int, ...]

    @property
    def tiled(self) -> bool:
        return len(self.shape) == 4

    @property
    def image_shape(self) -> tuple[int, int]:
        if self.tiled:
            kh, kw, cin, cout = self.shape
            return cin * (kh + GAP) - GAP, cout * (kw + GAP) - GAP
        if len(self.shape) <= 1:
            return 1, (self.shape[0] if self.shape else 1)
        return math.prod(self.shape[:-1]), self.shape[-1]

    def to_image(self, array: np.ndarray) -> np.ndarray:
        """The image of one step's value, as float32 (NaN in the gaps of tiled kernels)."""
        a = np.asarray(array, dtype=np.float32)
        if not self.tiled:
            return a.reshape(self.image_shape)
        kh, kw, cin, cout = self.shape
        padded = np.full((cin, kh + GAP, cout, kw + GAP), np.nan, np.float32)
        padded[:, :kh, :, :kw] = a.transpose(2, 0, 3, 1)  # (cin, kh, cout, kw)
        rows, cols = self.image_shape
        return padded.reshape(cin * (kh + GAP), cout * (kw + GAP))[:rows, :cols]

    def element_at(self, row: int, col: int) -> tuple[int, ...] | None:
        """The element index at image pixel (row, col), or None for gaps and outside."""
        rows, cols = self.image_shape
        if not (0 <= row < rows and 0 <= col < cols):
            return None
        if self.tiled:
            kh, kw, _, _ = self.shape
            c, i = divmod(row, kh + GAP)
            o, j = divmod(col, kw + GAP)
            if i >= kh or j >= kw:
                return None
            return (i, j, c, o)
        if not self.shape:
            return ()
        if len(self.shape) == 1:
            return (col,)
        lead = np.unravel_index(row, self.shape[:-1])
        return (*(int(x) for x in lead), col)

    def pixel_of(self, element: tuple[int, ...]) -> tuple[int, int]:
        """The image pixel (row, col) showing `element`."""
        if self.tiled:
            i, j, c, o = element
            return c * (self.shape[0] + GAP) + i, o * (self.shape[1] + GAP) + j
        if len(self.shape) <= 1:
            return 0, (element[0] if element else 0)
        row = int(np.ravel_multi_index(element[:-1], self.shape[:-1]))
        return row, int(element[-1])


def format_element(name: str, element: tuple[int, ...]) -> str:
    """'dense/kernel[3, 7]'."""
    return f"{name}[{', '.join(str(e) for e in element)}]"
