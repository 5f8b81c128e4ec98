"""LaidOutImage: one step of a variable as its image, made only if the whole image is asked for.

Scrubbing shows only the pixels on screen (ImageLayout.shown), so a rearranged layout (conv
filters, receptive fields, PyTorch axes) never copies the whole step per frame. Hovering asks
for single pixels, which are looked up in the data; histograms count the data itself (the
same values as the image, less its NaN gaps). Anything else gets the full image, once.
"""

from __future__ import annotations

import numpy as np

from .layout import ImageLayout


class LaidOutImage:
    """Array-like (shape, indexing, np.asarray) view of `data` laid out by `layout`."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, data: np.ndarray, layout: ImageLayout) -> None:
        self.data, self.layout = data, layout
        self.shape = layout.image_shape
        self._image: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def __getitem__(self, key):
        if (isinstance(key, tuple) and len(key) == 2
                and all(isinstance(k, (int, np.integer)) for k in key)):
            element = self.layout.element_at(int(key[0]), int(key[1]))
            return np.float32(np.nan) if element is None else np.float32(self.data[element])
        return self.image()[key]

    def ravel(self) -> np.ndarray:
        """The values (without the gaps' NaN), in the data's order: enough for histograms."""
        return np.asarray(self.data, np.float32).ravel()

    def image(self) -> np.ndarray:
        if self._image is None:
            self._image = self.layout.to_image(self.data)
        return self._image

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        image = self.image()
        return image if dtype is None else image.astype(dtype)


def laid_out(data: np.ndarray, layout: ImageLayout) -> np.ndarray | LaidOutImage:
    """The step's image: the data itself reshaped where that is the image (no copy), else a
    LaidOutImage."""
    return layout.to_image(data) if layout.plain else LaidOutImage(data, layout)
