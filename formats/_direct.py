"""Writing and reading large rows straight to and from their chunks, beside HDF5.

A row of a large uncompressed variable fills whole chunks of its own, allocated in a growth
event (rule 1 in _tables.py). The writer never reads or writes those chunks through HDF5, so
HDF5 never caches them. Writing their bytes with os.pwrite gives the same file as writing
through h5py, but releases the GIL: the summaries of a step are computed while its rows go to
disk, and a training thread beside the writer keeps running.

Reading such a row with os.preadv (`read_row`) likewise releases the GIL (a viewer's GUI
thread keeps painting while a reader thread reads), and it skips h5py's zero-filled buffer:
about half the time of `ds[row]` for a 4 MB row in the page cache. HDF5 still says where each
chunk is; anything unusual (a chunk not allocated, filtered, of another size, a short read)
falls back to h5py, which reads or reports it as before.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import h5py
import numpy as np

DIRECT_MIN_BYTES = 64 << 10  # below this, a thread hand-off costs more than it saves


def can_write_direct(ds: h5py.Dataset) -> bool:
    """True for uncompressed datasets whose chunks hold one row (or part of one) each."""
    if ds.compression or ds._filters or ds.chunks is None or ds.chunks[0] != 1 or ds.ndim < 2:
        return False
    row_bytes = math.prod(ds.shape[1:]) * ds.dtype.itemsize
    return row_bytes >= DIRECT_MIN_BYTES and tuple(ds.chunks[2:]) == tuple(ds.shape[2:])


class RowPlan(NamedTuple):
    """What reading a row of a dataset directly needs to know (asked of HDF5 once)."""

    shape: tuple[int, ...]  # of one row
    dtype: np.dtype
    lead: int  # rows of the row's first axis per chunk
    chunk_bytes: int  # bytes of every chunk, the last too (its values come first in it)


def row_plan(ds: h5py.Dataset) -> RowPlan | None:
    """How to read rows of `ds` directly: uncompressed plain numbers in chunks of one row,
    whole along every axis past the 2nd, big enough to be worth it; else None."""
    if not (ds.dtype.kind in "fiu" and ds.chunks is not None and ds.chunks[0] == 1
            and ds.ndim >= 2 and not ds.compression and not ds._filters
            and tuple(ds.chunks[2:]) == tuple(ds.shape[2:])):
        return None
    shape, lead = tuple(ds.shape[1:]), ds.chunks[1]
    row_bytes = math.prod(shape) * ds.dtype.itemsize
    if row_bytes < DIRECT_MIN_BYTES:
        return None
    return RowPlan(shape, ds.dtype, lead, row_bytes // shape[0] * lead)


def read_row(ds: h5py.Dataset, plan: RowPlan, fd: int, row: int) -> np.ndarray | None:
    """Row `row` of `ds` read with os.preadv from `fd` (the same file), or None where h5py
    must read it (see the module's docstring)."""
    out = np.empty(plan.shape, plan.dtype)
    corner = (0,) * (len(plan.shape) - 1)
    for start in range(0, plan.shape[0], plan.lead):
        block = out[start:start + plan.lead]
        info = ds.id.get_chunk_info_by_coord((row, start, *corner))
        if (info.byte_offset is None or info.filter_mask or info.size != plan.chunk_bytes
                or tuple(info.chunk_offset[:2]) != (row, start)):
            return None
        if os.preadv(fd, [memoryview(block).cast("B")], info.byte_offset) != block.nbytes:
            return None
    return out


class DirectRows:
    """Reads rows directly where `row_plan` allows, planning each variable once."""

    def __init__(self) -> None:
        self._plans: dict[str, RowPlan | None] = {}

    def read(self, name: str, ds: h5py.Dataset, fd: int | None, row: int) -> np.ndarray | None:
        """Row `row` of variable `name` (dataset `ds`), or None: h5py must read it."""
        if name not in self._plans:
            self._plans[name] = row_plan(ds)
        plan = self._plans[name]
        return None if plan is None or fd is None else read_row(ds, plan, fd, row)


class DirectWriter:
    """Writes rows of eligible datasets on one background thread, with os.pwrite."""

    def __init__(self, fd: int) -> None:
        self._fd = os.dup(fd)  # the file may have no name yet
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="weightreel-pwrite")

    def submit(self, rows: list[tuple[h5py.Dataset, int, np.ndarray]]) -> Future:
        """Start writing each (dataset, row, value); the chunk addresses are looked up here."""
        pieces = []
        for ds, row, value in rows:
            data = np.ascontiguousarray(value, dtype=ds.dtype)
            lead = ds.chunks[1]
            for start in range(0, ds.shape[1], lead):
                info = ds.id.get_chunk_info_by_coord((row, start) + (0,) * (ds.ndim - 2))
                pieces.append((info.byte_offset, data[start:start + lead]))
        return self._pool.submit(self._write, pieces)

    def _write(self, pieces: list[tuple[int, np.ndarray]]) -> None:
        for offset, block in pieces:
            view = memoryview(block).cast("B")
            while view:
                written = os.pwrite(self._fd, view, offset)
                view, offset = view[written:], offset + written

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        os.close(self._fd)
