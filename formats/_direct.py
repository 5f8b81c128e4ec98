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
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import h5py
import numpy as np

DIRECT_MIN_BYTES = 64 << 10  # below this, a thread hand-off costs more than it saves


def can_write_direct(ds: h5py.Dataset) -> bool:
    """True for uncompressed datasets whose chunks hold one row (or part of one) each, or
    several whole rows each (a row is then a contiguous block inside its chunk)."""
    if ds.compression or ds._filters or ds.chunks is None or ds.ndim < 2:
        return False
    row_bytes = math.prod(ds.shape[1:]) * ds.dtype.itemsize
    one_row = ds.chunks[0] == 1 and tuple(ds.chunks[2:]) == tuple(ds.shape[2:])
    whole_rows = tuple(ds.chunks[1:]) == tuple(ds.shape[1:])
    return row_bytes >= DIRECT_MIN_BYTES and (one_row or whole_rows)


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
    """Writes rows of eligible datasets on one background thread, with os.pwrite.

    Where the file system allows it, the page-aligned part of each chunk is written with
    O_DIRECT, through a second descriptor: the bytes go from one reused, page-aligned buffer to
    the disk without the page cache. A buffered write of a row costs the kernel about 1 ms of
    CPU per MB (page allocation and copy), which training pays on a busy machine; a direct one
    about a tenth of that. Chunks are aligned because the writer's HDF5 file aligns every
    allocation from ALIGN_THRESHOLD bytes on (_guard.py). Anything else (an unaligned chunk of
    an older file, a row's last partial page, a file system without O_DIRECT) is written
    buffered, as before. A direct write invalidates the page cache over its range, so readers
    of the file, which go through the cache, see the new bytes.
    """

    def __init__(self, fd: int) -> None:
        self._fd = os.dup(fd)  # the file may have no name yet
        self._direct_fd = _open_direct(fd) if USE_O_DIRECT else None
        self._map: mmap.mmap | None = None  # page-aligned memory for direct writes
        self._buffer: np.ndarray | None = None  # the same bytes, as numpy sees them
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="weightreel-pwrite")
        # Per dataset, the first row of the chunk last written and that chunk's address: a
        # chunk of several rows is looked up in HDF5's index once, not once per row.
        self._chunks: dict[h5py.h5d.DatasetID, tuple[int, int]] = {}
        self._layouts: dict[h5py.h5d.DatasetID, tuple[int, int, int, tuple[int, ...]]] = {}

    def submit(self, rows: list[tuple[h5py.Dataset, int, np.ndarray]]) -> Future:
        """Start writing each (dataset, row, value); the chunk addresses are looked up here.
        The values must not change until the returned future is done."""
        pieces = []
        for ds, row, value in rows:
            per_chunk, lead, length, zeros = self._layout(ds)
            data = np.ascontiguousarray(value, dtype=ds.dtype)
            if per_chunk > 1:  # whole rows side by side in each chunk
                pieces.append((self._chunk_at(ds, row - row % per_chunk, zeros)
                               + (row % per_chunk) * data.nbytes, data))
                continue
            for start in range(0, length, lead):
                info = ds.id.get_chunk_info_by_coord((row, start) + zeros[1:])
                pieces.append((info.byte_offset, data[start:start + lead]))
        return self._pool.submit(self._write, pieces)

    def _layout(self, ds: h5py.Dataset) -> tuple[int, int, int, tuple[int, ...]]:
        """Rows per chunk, first-axis length per chunk and of a row, and zeros for a chunk
        coordinate past the row index: asked of HDF5 once per dataset, not once per step."""
        layout = self._layouts.get(ds.id)
        if layout is None:
            layout = self._layouts[ds.id] = (ds.chunks[0], ds.chunks[1], ds.shape[1],
                                             (0,) * (ds.ndim - 1))
        return layout

    def _chunk_at(self, ds: h5py.Dataset, first: int, zeros: tuple[int, ...]) -> int:
        known = self._chunks.get(ds.id)
        if known is None or known[0] != first:
            info = ds.id.get_chunk_info_by_coord((first, *zeros))
            known = self._chunks[ds.id] = (first, info.byte_offset)
        return known[1]

    def _write(self, pieces: list[tuple[int, np.ndarray]]) -> None:
        for run in _runs(pieces):
            if len(run) > 1 and self._direct_fd is not None and self._write_run(run):
                continue
            for offset, block in run:
                view = memoryview(block).cast("B")
                done = 0
                if self._direct_fd is not None:
                    done = self._write_direct(view, offset, block.ctypes.data % PAGE == 0)
                _pwrite_all(self._fd, view[done:], offset + done)

    def _write_run(self, run: list[tuple[int, np.ndarray]]) -> bool:
        """Write pieces that follow each other in the file, all whole pages of page-aligned
        memory, with one O_DIRECT pwritev: one I/O instead of one per row (each I/O costs
        this machine's kernel a fixed CPU time). False if it did not write them all (they are
        then written one by one)."""
        views = [memoryview(block).cast("B") for _, block in run]
        try:
            return os.pwritev(self._direct_fd, views, run[0][0]) == sum(map(len, views))
        except OSError:
            return False

    def _write_direct(self, view: memoryview, offset: int, aligned: bool) -> int:
        """Write the whole pages at the start of `view` with O_DIRECT; return how many bytes
        were written (0 where the offset is not page-aligned or the file system refuses).
        Memory that is not `aligned` to a page is copied into page-aligned memory first; a
        recorder's step buffers (_aligned.py) are written as they are."""
        size = len(view) // PAGE * PAGE
        if offset % PAGE or not size:
            return 0
        source = view[:size]
        if not aligned:
            if self._buffer is None or self._buffer.size < size:
                self._free_buffer()
                self._map = mmap.mmap(-1, size)  # anonymous maps are page-aligned
                self._buffer = np.frombuffer(self._map, np.uint8)
            # np.copyto, not a slice assignment to the map: numpy lets go of the interpreter
            # lock while it copies (40 MB take 5 ms, which training's Python would wait out).
            np.copyto(self._buffer[:size], np.frombuffer(view, np.uint8, count=size))
            source = memoryview(self._buffer)[:size]
        try:
            written = os.pwrite(self._direct_fd, source, offset)
        except OSError:  # EINVAL and the like: this file system takes buffered writes only
            os.close(self._direct_fd)
            self._direct_fd = None
            return 0
        return written // PAGE * PAGE  # a short direct write: the rest goes buffered

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        os.close(self._fd)
        if self._direct_fd is not None:
            os.close(self._direct_fd)
        self._free_buffer()

    def _free_buffer(self) -> None:
        if self._buffer is not None:
            self._buffer = None  # the map cannot close while an array still points into it
            self._map.close()


PAGE = 4096  # direct writes are whole pages at page-aligned offsets, from page-aligned memory
# WEIGHTREEL_DIRECT_IO=0: every row is written through the page cache (see README)
USE_O_DIRECT = os.environ.get("WEIGHTREEL_DIRECT_IO", "1") != "0"


def _open_direct(fd: int) -> int | None:
    """A second, O_DIRECT descriptor of the file open as `fd` (by /proc: it may have no name
    yet); None where the platform or the file system has no direct I/O."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | flag)
    except OSError:
        return None


def _runs(pieces: list[tuple[int, np.ndarray]]) -> list[list[tuple[int, np.ndarray]]]:
    """`pieces` cut into runs of pieces that can go in one direct pwritev: each of whole
    pages, in page-aligned memory, and starting where the one before ends in the file."""
    runs: list[list[tuple[int, np.ndarray]]] = []
    end = None
    for offset, block in pieces:
        whole = (offset % PAGE == 0 and block.nbytes % PAGE == 0 and block.nbytes
                 and block.ctypes.data % PAGE == 0)
        if whole and runs and offset == end and len(runs[-1]) < RUN_PIECES:
            runs[-1].append((offset, block))
        else:
            runs.append([(offset, block)])
        end = offset + block.nbytes if whole else None
    return runs


RUN_PIECES = 512  # below the kernel's IOV_MAX (1024)


def _pwrite_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
