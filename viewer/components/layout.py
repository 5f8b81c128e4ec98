"""How a variable of any rank is laid out as a 2-D image, and back from a pixel to an element."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

GAP = 1  # pixels of blank between the filters of a tiled conv kernel
# The blank is a NaN of its own bit pattern, so that colouring tells it (transparent) from a
# NaN weight (drawn in the NaN colour): layout only copies values, which keeps the bits.
GAP_BITS = 0x7FC0_0DEA
GAP_VALUE = np.array([GAP_BITS], np.uint32).view(np.float32)[0]
MIN_IMAGE_INPUTS = 16  # a Dense input this size or more, a perfect square, is shown as an image
KERAS_LAYOUTS = {2: "io", 3: "wio", 4: "hwio", 5: "dhwio"}  # what the layouts below expect


def keras_order(axes: str, ndim: int) -> tuple[int, ...] | None:
    """The axes of a variable recorded with layout `axes` (SPEC: "layout", e.g. PyTorch's
    "oihw") in Keras's order for its rank ("hwio"): `array.transpose(order)` is Keras-shaped.
    None when it already is, or the layout is unknown or does not match."""
    keras = KERAS_LAYOUTS.get(ndim)
    if not axes or keras is None or sorted(axes) != sorted(keras):
        return None
    order = tuple(axes.index(c) for c in keras)
    return None if order == tuple(range(ndim)) else order


def keras_shape(shape: tuple[int, ...], axes: str = "") -> tuple[int, ...]:
    """`shape` as Keras would have it (see keras_order)."""
    order = keras_order(axes, len(shape))
    return tuple(shape) if order is None else tuple(shape[k] for k in order)


def gap_mask(image: np.ndarray) -> np.ndarray:
    """True at the blank pixels between tiles of an image made by ImageLayout.to_image."""
    return np.ascontiguousarray(image, np.float32).view(np.uint32) == GAP_BITS


def input_image(shape: tuple[int, ...], image_shape: tuple[int, int] | None = None
                ) -> tuple[int, int] | None:
    """The (height, width) image that the inputs of a Dense kernel (in, out) form: the given
    `image_shape` if it holds exactly `in` pixels, else a square one if `in` is a perfect
    square of at least MIN_IMAGE_INPUTS; None for anything else."""
    if len(shape) != 2 or shape[0] < 1:
        return None
    if image_shape is not None and image_shape[0] * image_shape[1] == shape[0]:
        return int(image_shape[0]), int(image_shape[1])
    side = math.isqrt(shape[0])
    if side * side == shape[0] and shape[0] >= MIN_IMAGE_INPUTS:
        return side, side
    return None


def grid_columns(count: int) -> int:
    """Columns of a grid of `count` tiles: about square, wider where that fills every row."""
    root = max(1, math.isqrt(count - 1) + 1) if count > 1 else 1
    return next((c for c in range(root, 2 * root + 1) if count % c == 0), root)


@dataclass(frozen=True)
class ImageLayout:
    """Maps arrays of `shape` to images of `image_shape` (rows, columns) and pixels back.

    - 0-D and 1-D: one row.
    - 2-D: as it is (rows = first axis).
    - 4-D conv kernels (kh, kw, in, out): a grid of kh×kw filters, one row of tiles per input
      channel and one column per output channel, separated by blank gaps.
    - 2-D Dense kernels (in, out) with `tile` = (h, w), h·w = in: receptive fields, a grid of
      `out` h×w images (unit u at tile row u // grid_cols, column u % grid_cols), with gaps.
    - 3-D and 5-D+: all leading axes flattened into rows, the last axis as columns.

    `shape` is in Keras's layout; a variable recorded in another (PyTorch's (out, in, kH, kW))
    gives `order`, the transpose that makes it so (keras_order). Arrays passed in and elements
    handed out are in the recorded layout. Images of rearranged layouts are gathered through a
    cached map of element numbers (`index_map`), at only the pixels asked for (`shown`).
    """

    shape: tuple[int, ...]
    tile: tuple[int, int] | None = None  # the input image of a 2-D kernel's receptive fields
    order: tuple[int, ...] | None = None  # recorded axis of each Keras axis; None: the same

    def __post_init__(self) -> None:
        if self.tile is not None and (len(self.shape) != 2
                                      or self.tile[0] * self.tile[1] != self.shape[0]):
            raise ValueError(f"cannot show inputs of shape {self.shape} as {self.tile} images")

    @property
    def stored_shape(self) -> tuple[int, ...]:
        """The shape of the variable as recorded."""
        if self.order is None:
            return self.shape
        stored = [0] * len(self.shape)
        for keras_axis, axis in enumerate(self.order):
            stored[axis] = self.shape[keras_axis]
        return tuple(stored)

    @property
    def plain(self) -> bool:
        """Whether the image is the data reshaped (no copy): nothing to rearrange."""
        return not (self.fields or self.tiled or self.order)

    @property
    def tiled(self) -> bool:
        return len(self.shape) == 4

    @property
    def fields(self) -> bool:
        """Whether a Dense kernel is shown as receptive fields (one input image per unit)."""
        return self.tile is not None

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the receptive-field tiles."""
        columns = grid_columns(self.shape[1])
        return -(-self.shape[1] // columns), columns

    @property
    def image_shape(self) -> tuple[int, int]:
        if self.fields:
            (h, w), (rows, cols) = self.tile, self.grid
            return rows * (h + GAP) - GAP, cols * (w + GAP) - GAP
        if self.tiled:
            kh, kw, cin, cout = self.shape
            return cin * (kh + GAP) - GAP, cout * (kw + GAP) - GAP
        if len(self.shape) <= 1:
            return 1, (self.shape[0] if self.shape else 1)
        return math.prod(self.shape[:-1]), self.shape[-1]

    def to_image(self, array: np.ndarray) -> np.ndarray:
        """The image of one step's value, as float32 (GAP_VALUE, a NaN, in the gaps of tiled
        kernels)."""
        return self.shown(array, (1, 1))

    def shown(self, array: np.ndarray, stride: tuple[int, int] = (1, 1)) -> np.ndarray:
        """Every stride[0]-th row and stride[1]-th column of the image, made from those
        pixels alone: a rearranged layout gathers them through its cached index map."""
        flat = np.asarray(array).reshape(-1)
        if self.plain:
            image = flat.reshape(self.image_shape)[:: stride[0], :: stride[1]]
            return image.astype(np.float32, copy=False)
        index, gaps, _ = _strided_map(self, (int(stride[0]), int(stride[1])))
        image = flat.take(index).astype(np.float32, copy=False)
        if gaps is not None:
            image[gaps] = GAP_VALUE
        return image

    def index_map(self) -> np.ndarray | None:
        """Each pixel's element number in the recorded (flattened) array, -1 in the gaps;
        None for plain layouts. Cached: made once per layout."""
        return None if self.plain else _strided_map(self, (1, 1))[2]

    def _arrange(self, a: np.ndarray, fill) -> np.ndarray:
        """`a` (in Keras's layout) laid out as the image, `fill` in the gaps."""
        if self.fields:
            return self._fields_image(a, fill)
        if not self.tiled:
            return a.reshape(self.image_shape)
        kh, kw, cin, cout = self.shape
        padded = np.full((cin, kh + GAP, cout, kw + GAP), fill, a.dtype)
        padded[:, :kh, :, :kw] = a.transpose(2, 0, 3, 1)  # (cin, kh, cout, kw)
        rows, cols = self.image_shape
        return padded.reshape(cin * (kh + GAP), cout * (kw + GAP))[:rows, :cols]

    def _fields_image(self, a: np.ndarray, fill) -> np.ndarray:
        (h, w), (rows, cols), units = self.tile, self.grid, self.shape[1]
        padded = np.full((rows * cols, h + GAP, w + GAP), fill, a.dtype)
        padded[:units, :h, :w] = a.T.reshape(units, h, w)  # unit u's inputs as an h×w image
        grid = padded.reshape(rows, cols, h + GAP, w + GAP).transpose(0, 2, 1, 3)
        height, width = self.image_shape
        return grid.reshape(rows * (h + GAP), cols * (w + GAP))[:height, :width]

    def element_at(self, row: int, col: int) -> tuple[int, ...] | None:
        """The element index (in the recorded layout) at image pixel (row, col), or None for
        gaps and outside."""
        element = self._keras_element_at(row, col)
        if element is None or self.order is None:
            return element
        stored = [0] * len(element)
        for keras_axis, axis in enumerate(self.order):
            stored[axis] = element[keras_axis]
        return tuple(stored)

    def _keras_element_at(self, row: int, col: int) -> tuple[int, ...] | None:
        rows, cols = self.image_shape
        if not (0 <= row < rows and 0 <= col < cols):
            return None
        if self.fields:
            return self._field_element(row, col)
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

    def _field_element(self, row: int, col: int) -> tuple[int, int] | None:
        (h, w), (_, cols) = self.tile, self.grid
        r, i = divmod(row, h + GAP)
        c, j = divmod(col, w + GAP)
        unit = r * cols + c
        if i >= h or j >= w or unit >= self.shape[1]:
            return None
        return i * w + j, unit

    def pixel_of(self, element: tuple[int, ...]) -> tuple[int, int]:
        """The image pixel (row, col) showing `element` (in the recorded layout)."""
        if self.order is not None:
            element = tuple(element[axis] for axis in self.order)
        if self.fields:
            (h, w), (_, cols) = self.tile, self.grid
            i, j = divmod(int(element[0]), w)
            r, c = divmod(int(element[1]), cols)
            return r * (h + GAP) + i, c * (w + GAP) + j
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


def layout_for(shape: tuple[int, ...], dense_as_images: bool = True,
               image_shape: tuple[int, int] | None = None, axes: str = "") -> ImageLayout:
    """The layout a variable of `shape`, recorded with layout `axes` ("": Keras's), is shown
    with: receptive fields where wanted and the inputs form an image (see `input_image`),
    else the plain layout of its rank."""
    order = keras_order(axes, len(shape))
    shape = keras_shape(tuple(shape), axes)
    tile = input_image(shape, image_shape) if dense_as_images else None
    return ImageLayout(shape, tile, order)


@functools.lru_cache(maxsize=64)
def _strided_map(layout: ImageLayout, stride: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(element numbers of the shown pixels, with gaps at 0; the gaps' mask or None; the
    full index map) of a rearranged layout."""
    full = _full_map(layout)
    index = np.ascontiguousarray(full[:: stride[0], :: stride[1]])
    gaps = index < 0
    if gaps.any():
        index = np.where(gaps, 0, index)
        return index, gaps, full
    return index, None, full


@functools.lru_cache(maxsize=16)
def _full_map(layout: ImageLayout) -> np.ndarray:
    size = math.prod(layout.shape)
    numbers = np.arange(size, dtype=np.int32 if size < 2**31 else np.int64)
    numbers = numbers.reshape(layout.stored_shape)
    if layout.order is not None:
        numbers = numbers.transpose(layout.order)
    return layout._arrange(numbers, -1)
