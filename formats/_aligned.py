"""Reused, page-aligned buffers for whole steps, for a recorder to copy its snapshots into.

A recorder that reads a model's variables copies each one somewhere every step. Copied into
one of these buffers:
- the step needs no allocation (a fresh 38 MB array each step costs page faults, and on
  TensorFlow a snapshot that outlives the next update makes TensorFlow copy the variable
  inside the train step first);
- the direct writer (_direct.py) writes the rows to disk with O_DIRECT straight from the
  buffer, with no copy into its own aligned memory: for a 38 MB step that copy is 3.5 ms.

A buffer is free again when nothing refers to its memory any more: the writer keeps a step's
arrays until the step is written, and the last ones until the next step (the update norm). No
callback is needed: every array handed out is a view of the buffer's one base array, so the
base's reference count says whether any is alive. When all buffers are in use, `take` gives
None and the recorder copies as it did before; it never waits.
"""

from __future__ import annotations

import math
import mmap
import sys
from collections.abc import Sequence

import numpy as np

from ._direct import PAGE

Layout = tuple[tuple[tuple[int, ...], np.dtype], ...]


class StepBuffers:
    """Up to `limit` buffers, each holding one step of arrays of one layout."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self._layout: Layout | None = None
        self._buffers: list[_Buffer] = []

    def take(self, layout: Layout) -> list[np.ndarray] | None:
        """Empty, page-aligned arrays of `layout` ((shape, dtype) each) in a free buffer; None
        when all `limit` buffers are in use (or an array's memory could not be mapped)."""
        if layout != self._layout:
            self._layout, self._buffers = layout, []  # old buffers go when their views do
        for buffer in self._buffers:
            if buffer.free():
                return buffer.views()
        if len(self._buffers) >= self.limit:
            return None
        try:
            buffer = _Buffer(layout)
        except (OSError, ValueError):  # no memory to map: copy as before
            return None
        self._buffers.append(buffer)
        return buffer.views()

    def copy(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        """`arrays` copied into a free buffer of their layout; None when none is free."""
        targets = self.take(self.layout_of(arrays))
        if targets is not None:
            for target, value in zip(targets, arrays, strict=True):
                np.copyto(target, value)
        return targets

    @staticmethod
    def layout_of(arrays: Sequence[np.ndarray]) -> Layout:
        return tuple((tuple(a.shape), a.dtype) for a in arrays)


class _Buffer:
    """One anonymous map (page-aligned), with each array of the layout at a page boundary."""

    def __init__(self, layout: Layout) -> None:
        self._places = []
        offset = 0
        for shape, dtype in layout:
            self._places.append((offset, shape, dtype))
            nbytes = math.prod(shape) * dtype.itemsize
            offset += -(-max(nbytes, 1) // PAGE) * PAGE
        self._map = mmap.mmap(-1, max(offset, PAGE))
        self._base = np.frombuffer(self._map, np.uint8)
        self._unused = self._references()

    def _references(self) -> int:
        return sys.getrefcount(self._base)

    def free(self) -> bool:
        """Whether no array handed out (or any view of one) is alive."""
        return self._references() <= self._unused

    def views(self) -> list[np.ndarray]:
        base = self._base
        return [base[offset:offset + math.prod(shape) * dtype.itemsize].view(dtype)
                .reshape(shape) for offset, shape, dtype in self._places]
